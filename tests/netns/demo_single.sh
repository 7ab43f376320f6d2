#!/usr/bin/env bash
# `sudo scripts/demo.sh --single` (the README's single-node demo) runs in the suite: it must exit 0
# and show what it says it shows: 30 requests spread rr over b1..b3, the VIP as the source the
# backends see in fullnat mode, the rule and a live connection in floatctl's tables.
set -uo pipefail
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
SRC=${FLOATLB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(mktemp /tmp/flb-demo-single.XXXXXX)
FLOATLB_BUILD=${FLOATLB_BUILD:-$SRC/build} timeout 150 bash "$SRC/scripts/demo.sh" --single >"$out" 2>&1
rc=$?
sed -i 's/\x1b\[[0-9;]*m//g' "$out"  # the demo's bold headings
cat "$out"
failed=0
check() { local what=$1; shift; if "$@"; then echo "PASS: $what"; else echo "FAIL: $what"; failed=$((failed + 1)); fi; }
check "demo.sh --single exited 0 (rc $rc)" test $rc -eq 0
for b in b1 b2 b3; do
  check "rr: $b answered 10 of the 30 requests" grep -qE "^ +10 $b$" "$out"
done
check "fullnat: the backend saw the VIP as the client address" grep -qE "client address in fullnat mode: 198\.18\.0\.100$" "$out"
check "floatctl get lb -o wide lists the demo rule" grep -q "demo-web" "$out"
check "floatctl get ct shows the download's established connection" grep -qE "\| 198\.18\.0\.100 .*\| est +\|" "$out"
check "the demo finished" grep -q "^demo finished" "$out"
echo "$failed failed"
[ $failed -eq 0 ] && rm -f "$out"
[ $failed -eq 0 ]
