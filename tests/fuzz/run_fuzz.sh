#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a copy of its seed corpus. A crash, a sanitizer
# report or a trapped invariant exits 1 (-error_exitcode=1: never libFuzzer's default 77, which
# ctest could read as a skip).
set -euo pipefail
bin=$1; corpus_src=$2; seconds=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus_src"/* "$work/"
rc=0
"$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -error_exitcode=1 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work" >"$work/log" 2>&1 || rc=$?
tail -n 15 "$work/log"
if [ $rc -ne 0 ]; then
  echo "fuzz: FAILED (exit $rc)"
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do [ -f "$f" ] && { echo "input $f:"; base64 "$f"; }; done
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
