#!/usr/bin/env bash
# Runs the request-parser fuzzer for a bounded time on a copy of the seed corpus.
set -euo pipefail
bin=$1; corpus_src=$2; seconds=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus_src"/* "$work/"
# -error_exitcode=1: libFuzzer's default for a crash is 77, which ctest would take for a skip
"$bin" -error_exitcode=1 -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 "$work" 2>&1 | tail -n 15
echo "fuzz: no crash in ${seconds}s"
