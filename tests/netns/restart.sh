#!/usr/bin/env bash
# Restarting the daemon neither interrupts a running transfer nor loses rules.
source "$(dirname "$0")/lib.sh"
netns_init restart
topo_single
start_floatlb lb lb
ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --mode=fullnat --name=dl

# A 20 MB download rate-limited to 4 MB/s: about 5 s on the wire.
in_ns client curl -s --max-time 30 -o "$WORK/big" -w '%{http_code} %{size_download}\n' "http://$VIP/big" \
  >"$WORK/curl.out" 2>"$WORK/curl.err" &
CURL=$!
_PIDS+=($CURL)
wait_until 5 sh -c "[ -s $WORK/big ]"
log "download running; restarting floatlb (SIGTERM, then start again)"
kill -TERM "$PID_floatlb_lb"
wait_until 10 sh -c "! kill -0 $PID_floatlb_lb 2>/dev/null"
check "daemon exited on SIGTERM" sh -c "! kill -0 $PID_floatlb_lb 2>/dev/null"
mid=$(stat -c %s "$WORK/big")
check "bytes keep flowing while no daemon runs (+1 MB)" wait_until 5 sh -c "[ \$(stat -c %s $WORK/big) -gt $((mid + 1000000)) ]"
start_floatlb lb lb
wait "$CURL"; rc=$?
log "curl rc=$rc: $(cat "$WORK/curl.out") (had $mid bytes at restart)"
check "transfer survived the restart (rc 0, 20000000 bytes)" test "$rc" -eq 0 -a "$(stat -c %s "$WORK/big")" -eq 20000000
check "transfer was still in progress during the restart" test "$mid" -lt 20000000
check "rule restored from --config-path" sh -c "ip netns exec $(ns lb) $BIN/floatctl get lb | grep -q dl"
check "new connections work after the restart" sh -c "ip netns exec $(ns client) curl -s --max-time 2 http://$VIP/ | grep -q '^b[123]$'"

# Removing the package (its prerm runs `floatlb --remove-datapath` after stopping the service) takes
# away what a stopped daemon leaves attached on purpose: the tc filters and the pinned maps.
kill -TERM "$PID_floatlb_lb"
wait_until 10 sh -c "! kill -0 $PID_floatlb_lb 2>/dev/null"
tc_has_ours() { in_ns lb tc filter show dev "$1" ingress | grep -q flb_ingress; }
both_attached() { tc_has_ours eth0 && tc_has_ours eth1; }
none_attached() { ! tc_has_ours eth0 && ! tc_has_ours eth1; }
pinned() { ls "$WORK/bpffs/lb"/flb_* >/dev/null 2>&1; }
remove_datapath() { in_ns lb "$BIN/floatlb" --bpf-pin-dir="$WORK/bpffs/lb" --remove-datapath; }
check "the stopped daemon's program is still on eth0 and eth1 (hitless restarts)" both_attached
check "... and its maps are still pinned" pinned
rc=0
remove_datapath >"$WORK/remove.out" 2>&1 || rc=$?
log "floatlb --remove-datapath (rc $rc): $(cat "$WORK/remove.out")"
check "floatlb --remove-datapath succeeds and reports both interfaces" \
  sh -c "[ $rc -eq 0 ] && grep -q 'detached from 2 interface(s)' '$WORK/remove.out'"
check "no floatlb tc filter left on eth0 or eth1" none_attached
not_pinned() { ! pinned; }
check "no pinned map left" not_pinned
second_run_is_noop() { remove_datapath | grep -q 'detached from 0 interface(s).*removed 0 pinned'; }
check "a second run finds nothing to remove and still succeeds" second_run_is_noop
