#!/usr/bin/env bash
# Replay-proof heartbeats (issue 15): a real, authenticated heartbeat of the MASTER is recorded
# off the wire and replayed to the BACKUP from the master's address, twice as often as the master
# sent them, while the master's daemon is killed. The backup must still take over (the replays
# are rejected as not newer), count the rejects in /metrics and log them once for the burst;
# the restarted master (new boot epoch) is heard again.
source "$(dirname "$0")/lib.sh"
netns_init hareplay
mkns sw; mkns lb1; mkns lb2
mkbridge sw brb
plug sw brb lb1 eth1 $LB1_BACK/24
plug sw brb lb2 eth1 $LB2_BACK/24
echo "replay-test-shared-key" > "$WORK/ha.key"
start_ha_pair --ha-key-file="$WORK/ha.key"

await 5 state_is lb1 MASTER
await 5 state_is lb2 BACKUP
check "lb1 MASTER, lb2 BACKUP (lb1=$(ha_state lb1) lb2=$(ha_state lb2))" sh -c "[ $(ha_state lb1) = MASTER ] && [ $(ha_state lb2) = BACKUP ]"

REC="$WORK/master.hb"
in_ns lb2 python3 "$FLOATLB_SRC/tests/netns/ha_replay_tool.py" record --iface eth1 --src $LB1_BACK --dst $LB2_BACK --out "$REC"
check "a real MASTER heartbeat was recorded on lb2's link" test -s "$REC"

metric() { # metric NODE NAME: the sample's value, or -1 when the family is missing
  in_ns "$1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/metrics | awk -v n="$2" '$1 == n { v = $2 } END { print (v == "" ? -1 : v) }'
}
before=$(metric lb2 floatlb_ha_heartbeats_replayed_total)

# The attacker sits at the master's address (lb1's namespace) and replays every 50 ms (the
# master sent every 100 ms); then the master's daemon dies.
bg replayer "$WORK/replayer.log" ip netns exec "$(ns lb1)" python3 "$FLOATLB_SRC/tests/netns/ha_replay_tool.py" replay \
  --src $LB1_BACK --dst $LB2_BACK --file "$REC" --interval 0.05 --duration 20 --stop-file "$WORK/stop-replay"
await 3 grep -q 'rejected replayed heartbeat' "$WORK/floatlb-lb2.log"   # replays reach lb2 before the kill
# epoch ms of the first line of a daemon log containing PATTERN (the daemon stamps UTC ms)
log_ms() {
  python3 - "$1" "$2" <<'PY'
import datetime, sys
for line in open(sys.argv[1]):
    if sys.argv[2] in line:
        ts = datetime.datetime.fromisoformat(line.split()[0].rstrip("Z")).replace(tzinfo=datetime.timezone.utc)
        print(int(ts.timestamp() * 1000))
        break
else:
    print(-1)
PY
}
kill_ms=$(( $(date +%s%N) / 1000000 ))
kill "$PID_floatlb_lb1"
await 5 sh -c "! kill -0 $PID_floatlb_lb1 2>/dev/null"
await 5 state_is lb2 MASTER
check "lb2 took over while the dead master's heartbeat was replayed to it" state_is lb2 MASTER
took_ms=$(( $(log_ms "$WORK/floatlb-lb2.log" "BACKUP -> MASTER") - kill_ms ))
check "takeover within 2 s of the kill, by lb2's log (${took_ms} ms; detect time 300 ms)" \
  sh -c "[ $took_ms -ge 0 ] && [ $took_ms -lt 2000 ]"
replays_grew() { awk -v a="$(metric lb2 floatlb_ha_heartbeats_replayed_total)" -v b="$before" 'BEGIN { exit !(b >= 0 && a >= b + 10) }'; }
await 3 replays_grew
after=$(metric lb2 floatlb_ha_heartbeats_replayed_total)
log "floatlb_ha_heartbeats_replayed_total on lb2: $before -> $after"
check "the replays were counted in /metrics ($before -> $after)" replays_grew
check "undecodable/forged counter unchanged: the replayed packet is authentic" \
  test "$(metric lb2 floatlb_ha_heartbeats_rejected_total)" = 0
lines=$(grep -c 'rejected replayed heartbeat' "$WORK/floatlb-lb2.log" || true)
check "the burst was logged once, not per packet ($lines line(s))" test "$lines" = 1
touch "$WORK/stop-replay"
await 5 sh -c "! kill -0 $PID_replayer 2>/dev/null"
cat "$WORK/replayer.log"

log "lb1 restarts: a new boot epoch, its sequence starts over"
start_floatlb lb1 lb1r --cluster=$LB2_BACK --self=0 --ka=$LB2_BACK:$LB1_BACK --ha-key-file="$WORK/ha.key"
await 5 state_is lb1 BACKUP
check "restarted lb1 hears the MASTER and becomes BACKUP (non-preemptive)" state_is lb1 BACKUP
peer_alive() { in_ns lb2 curl -s -m 1 http://127.0.0.1:11111/netlox/v1/config/ha/peers | grep -q '"alive":true'; }
await 5 peer_alive
check "lb2 accepts the restarted peer's heartbeats" peer_alive
check "lb2 counted the peer's restart" test "$(metric lb2 floatlb_ha_peer_restarts_total)" -ge 1
check "still one MASTER (lb1=$(ha_state lb1) lb2=$(ha_state lb2))" masters_are 1
