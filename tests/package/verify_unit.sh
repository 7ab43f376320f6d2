#!/usr/bin/env bash
# deploy/floatlb.service passes `systemd-analyze verify` (unknown keys, bad values, sections), with
# ExecStart pointed at this build's daemon (verify also checks that the binary exists).
set -euo pipefail
FLOATLB_BUILD=${FLOATLB_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
FLOATLB_SRC=${FLOATLB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing (scripts/setup.sh installs systemd)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/sbin/floatlb #ExecStart=$FLOATLB_BUILD/bin/floatlb #" "$FLOATLB_SRC/deploy/floatlb.service" >"$tmp/floatlb.service"
grep -q "^ExecStart=$FLOATLB_BUILD/bin/floatlb " "$tmp/floatlb.service" || { echo "FAIL: no ExecStart=/usr/sbin/floatlb line"; exit 1; }
if out=$(systemd-analyze verify "$tmp/floatlb.service" 2>&1) && [ -z "$out" ]; then
  echo "PASS: systemd-analyze verify deploy/floatlb.service"
else
  echo "$out"
  echo "FAIL: systemd-analyze verify deploy/floatlb.service"
  exit 1
fi
