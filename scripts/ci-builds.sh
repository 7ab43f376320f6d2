#!/usr/bin/env bash
# The README's test command (setup + build + the whole suite, which includes the
# fuzz targets, always built with ASan+UBSan), then the builds users make and the sanitizer run:
#  1. Release (-O3, what a packager builds), warnings as errors as in every preset;
#  2. the `asan` preset (Debug + ASan/UBSan): build, then the unit tier under the sanitizers.
# Each step's wall time is printed; the whole run must stay under 45 minutes on the 2-core CI
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
step() { # step NAME command...: runs it, prints its wall time
  local name=$1 t0; shift
  t0=$(date +%s)
  echo "=== ci: $name"
  "$@"
  echo "=== ci: $name took $(( $(date +%s) - t0 )) s"
}
export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
command -v ccache >/dev/null || unset CMAKE_CXX_COMPILER_LAUNCHER CMAKE_C_COMPILER_LAUNCHER
step "README test command (scripts/test.sh)" bash scripts/test.sh
step "Release build" sh -c "cmake --preset release >/dev/null && cmake --build --preset release -j$jobs"
step "asan build" sh -c "cmake --preset asan >/dev/null && cmake --build --preset asan -j$jobs"
step "unit tier under ASan+UBSan" ctest --preset asan --timeout 300
