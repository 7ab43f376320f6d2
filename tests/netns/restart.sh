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
