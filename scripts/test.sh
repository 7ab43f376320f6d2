#!/usr/bin/env bash
# The whole test suite: setup, build, then every tier (unit, bpf, netns, e2e) through ctest.
# Tiers that need root SKIP with a reason when run without it. Run as root (CI), a skipped test
# fails the run: a missing tool or a test that could not run is a failure there, not a pass.
# Extra args go to ctest (e.g. scripts/test.sh -L unit, scripts/test.sh -R netns_basic).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
junit=build/ctest-results.xml
rm -f "$junit"
rc=0
ctest --test-dir build --output-on-failure --timeout 900 --output-junit "$PWD/$junit" "$@" || rc=$?
# ctest counts a skip (exit 77, or gtest's "[  SKIPPED ]") as "not run" and still exits 0.
if ! skipped=$(/usr/bin/python3 - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError) as e:
    sys.exit("test.sh: cannot read ctest's results %s: %s" % (sys.argv[1], e))
cases = root.iter("testcase")
print("\n".join(c.get("name") for c in cases
                if c.find("skipped") is not None or c.get("status") in ("notrun", "disabled")))
PY
); then
  exit 1
fi
if [ -n "$skipped" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test.sh: FAIL: running as root, yet these tests were skipped:" >&2
    echo "$skipped" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "test.sh: skipped (not root): $(echo "$skipped" | tr '\n' ' ')"
fi
exit $rc
