#!/usr/bin/env bash
# The whole test suite: setup, build, then every tier (unit, bpf, netns, e2e) through ctest.
# Tiers that need root SKIP with a reason when run without it. Extra args go to ctest
# (e.g. scripts/test.sh -L unit, scripts/test.sh -R netns_basic).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900 "$@"
