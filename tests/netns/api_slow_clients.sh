#!/usr/bin/env bash
# Slow and hostile clients (issue 13): with 512 connections open (half idle, half trickling
# header bytes, from 8 source addresses) and one client pipelining requests as fast as it can,
# a fresh client's request is answered within 200 ms, every time; the pipelined answers are
# all correct; and the tricklers are shut down once they miss the request deadline (10 s).
source "$(dirname "$0")/lib.sh"
netns_init apislow
mkns lb
API=http://127.0.0.1:11111/netlox/v1
mkdir -p "$WORK/cfg"
bg floatlb "$WORK/floatlb.log" ip netns exec "$(ns lb)" "$BIN/floatlb" --config-path="$WORK/cfg" \
  --bpf-pin-dir="$WORK/bpffs/lb" --host=127.0.0.1
wait_until 30 in_ns lb curl -sf -m 1 $API || { fail "floatlb did not come up"; exit 1; }
in_ns lb "$BIN/floatctl" create lb 198.18.0.10 --tcp=80:8080 --endpoints=10.9.0.1:1 >/dev/null

in_ns lb "$FLOATLB_SRC/tests/netns/api_clients.py" slow --slow 512 --sources 8 --probes 30 --deadline-wait 15 \
  > "$WORK/slow.json" 2> "$WORK/slow.err" || fail "slow-client driver failed: $(tail -3 "$WORK/slow.err")"
log "result: $(cat "$WORK/slow.json")"
field() { python3 -c "import json; print(json.load(open('$WORK/slow.json'))['$1'])"; }
check "all 512 slow connections were open while probing" test "$(field slow_open_during_probes)" -eq 512
check "every fresh request answered (no failure)" test "$(field probe_failures)" -eq 0
check "slowest fresh request <= 200 ms ($(field probe_max_ms) ms, p50 $(field probe_p50_ms) ms)" \
  python3 -c "import sys; sys.exit(0 if $(field probe_max_ms) <= 200 else 1)"
check "the pipelining client was served meanwhile ($(field pipelined_responses) answers)" test "$(field pipelined_responses)" -gt 100
check "pipelined answers were all correct and in order" test "$(field pipeline_errors)" -eq 0
check "tricklers shut down after the request deadline ($(field tricklers_closed_by_deadline)/$(field tricklers))" \
  test "$(field tricklers_closed_by_deadline)" = "$(field tricklers)"
check "the daemon is still running" kill -0 "$PID_floatlb"
check "and answers" in_ns lb curl -sf -m 1 -o /dev/null $API/config/loadbalancer/all
