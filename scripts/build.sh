#!/usr/bin/env bash
# Configure and build floatlb into build/ (binaries in build/bin/). Runs setup first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# ccache (installed by setup) makes rebuilds and CI reruns on the same machine cheap.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)"
