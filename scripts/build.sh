#!/usr/bin/env bash
# Configure and build floatlb into build/ (binaries in build/bin/). Runs setup first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)"
