#!/usr/bin/env bash
# The Debian package as a user gets it: built by CPack from this build tree, installed with
# dpkg -i, `floatlb --version` and `floatctl version` run from the installed paths, the installed
# unit passes systemd-analyze verify, then dpkg -r and dpkg --purge leave nothing behind.
# Root (it installs a package on this machine); refuses to touch a floatlb already installed.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
FLOATLB_BUILD=${FLOATLB_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
PASSED=0 FAILED=0
log() { echo "[$(date +%H:%M:%S.%3N)] $*"; }
check() { local what=$1; shift; if "$@"; then PASSED=$((PASSED + 1)); log "PASS: $what"; else FAILED=$((FAILED + 1)); log "FAIL: $what"; fi; }
for t in cpack dpkg dpkg-deb dpkg-shlibdeps systemd-analyze; do
  command -v $t >/dev/null || { log "FAIL: $t missing (scripts/setup.sh installs it)"; exit 1; }
done
# One package test at a time on this machine (several worktrees may run the suite).
exec 9>/run/lock/floatlb-package-test.lock
flock -w 300 9 || { log "FAIL: another package test holds the lock"; exit 1; }
if dpkg-query -W -f='${Status}' floatlb 2>/dev/null | grep -q installed; then
  log "FAIL: a floatlb package is already installed here; not touching it"; exit 1
fi
FILES=(/usr/sbin/floatlb /usr/bin/floatctl /lib/systemd/system/floatlb.service /etc/default/floatlb)
for f in "${FILES[@]}" /etc/floatlb /usr/share/doc/floatlb; do
  [ ! -e "$f" ] || { log "FAIL: $f exists outside any package; not overwriting it"; exit 1; }
done
WORK=$(mktemp -d /tmp/flbpkg.XXXX)
INSTALLED=0
cleanup() {
  local rc=$?
  set +e
  [ $INSTALLED -eq 1 ] && dpkg --purge floatlb >/dev/null 2>&1
  rm -rf "$WORK"
  echo "$PASSED passed, $FAILED failed"
  [ $rc -eq 0 ] && [ $FAILED -ne 0 ] && exit 1
  exit $rc
}
trap cleanup EXIT

log "cpack -G DEB from $FLOATLB_BUILD"
(cd "$WORK" && cpack -G DEB --config "$FLOATLB_BUILD/CPackConfig.cmake" -B "$WORK/out") >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; log "FAIL: cpack"; exit 1; }
DEB=$(ls "$WORK"/out/floatlb_*.deb)
log "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's#^\./#/#' >"$WORK/contents"
for f in /usr/sbin/floatlb /usr/bin/floatctl /lib/systemd/system/floatlb.service /etc/default/floatlb \
  /usr/share/doc/floatlb/iam-policy.json /usr/share/doc/floatlb/operations.md; do
  check "package contains $f" grep -qx "$f" "$WORK/contents"
done
depends=$(dpkg-deb -f "$DEB" Depends)
check "Depends from the binaries' libraries ($depends)" sh -c "echo '$depends' | grep -q libbpf"
check "/etc/default/floatlb is a conffile" sh -c "dpkg-deb -I '$DEB' conffiles | grep -qx /etc/default/floatlb"

dpkg -i "$DEB" >"$WORK/dpkg-i.log" 2>&1 && INSTALLED=1
check "dpkg -i installs it" test $INSTALLED -eq 1
[ $INSTALLED -eq 1 ] || { cat "$WORK/dpkg-i.log"; exit 1; }
pkgver=$(dpkg-query -W -f='${Version}' floatlb)
ver=$(/usr/sbin/floatlb --version)
check "floatlb --version runs from /usr/sbin: '$ver' (package $pkgver)" test "$ver" = "floatlb $pkgver"
cver=$(/usr/bin/floatctl version)
check "floatctl version runs from /usr/bin: '$cver'" test "$cver" = "floatctl version $pkgver"
check "no missing shared library" sh -c "! ldd /usr/sbin/floatlb /usr/bin/floatctl | grep -q 'not found'"
check "installed unit passes systemd-analyze verify" systemd-analyze verify /lib/systemd/system/floatlb.service
check "the unit reads /etc/default/floatlb" grep -qx 'EnvironmentFile=-/etc/default/floatlb' /lib/systemd/system/floatlb.service

dpkg -r floatlb >"$WORK/dpkg-r.log" 2>&1
check "dpkg -r removes it" sh -c "! dpkg-query -W -f='\${Status}' floatlb 2>/dev/null | grep -q 'install ok installed'"
check "binaries and unit gone after dpkg -r" sh -c "! ls /usr/sbin/floatlb /usr/bin/floatctl /lib/systemd/system/floatlb.service 2>/dev/null"
check "the conffile stays after dpkg -r (Debian policy)" test -f /etc/default/floatlb
# prerm ran `floatlb --remove-datapath` (in this, the host's, namespace: no floatlb filter or pin
# here, so it reports none; tests/netns/restart.sh checks the removal itself).
check "prerm removed the datapath ($(grep -m1 'floatlb: detached' "$WORK/dpkg-r.log"))" \
  grep -q '^floatlb: detached from 0 interface(s) (none); removed 0 pinned map(s)' "$WORK/dpkg-r.log"
dpkg --purge floatlb >"$WORK/dpkg-purge.log" 2>&1 && INSTALLED=0
left=""
for f in "${FILES[@]}" /etc/floatlb /usr/share/doc/floatlb; do [ -e "$f" ] && left+=" $f"; done
check "dpkg --purge leaves nothing behind${left:+:$left}" test -z "$left"
check "dpkg no longer knows the package" sh -c "! dpkg-query -W floatlb >/dev/null 2>&1"
