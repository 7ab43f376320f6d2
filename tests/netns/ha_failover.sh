#!/usr/bin/env bash
# HA pair with real traffic: 50 long-lived echo sessions through the MASTER survive its link
# failure, a return as BACKUP, a second failover back, and a heartbeat-only partition.
source "$(dirname "$0")/lib.sh"
netns_init ha
topo_ha
start_ha_pair

await 5 masters_are 1
check "exactly one MASTER after start (lb1=$(ha_state lb1) lb2=$(ha_state lb2))" masters_are 1
check "lb1 (lower id) is MASTER" test "$(ha_state lb1)" = MASTER
for n in lb1 lb2; do
  floatctl_in $n create lb $HA_VIP --tcp=7000:7000 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --mode=fullnat --name=echo
done
await 5 can_connect $HA_VIP 7000

SESS="$WORK/sessions.json"
bg sessions "$WORK/sessions.log" ip netns exec "$(ns client)" python3 "$FLOATLB_SRC/tests/netns/sessions.py" hold \
  --target $HA_VIP:7000 --count 50 --interval 0.05 --duration 60 --out "$SESS" --stop-file "$WORK/stop"
await 10 test -f "$SESS.ready"
check "50 sessions established through the MASTER" test -f "$SESS.ready"
probe_start() { # probe_start NAME: new connections every 10 ms until stop-NAME exists
  bg "probe_$1" "$WORK/probe-$1.log" ip netns exec "$(ns client)" python3 "$FLOATLB_SRC/tests/netns/sessions.py" probe \
    --target $HA_VIP:7000 --interval 0.01 --duration 20 --out "$WORK/probe-$1.json" --stop-file "$WORK/stop-$1"
  await 5 test -f "$WORK/probe-$1.json.ready"   # the prober has seen the service up before we break it
}
probe_stop() { touch "$WORK/stop-$1"; await 25 test -f "$WORK/probe-$1.json"; cat "$WORK/probe-$1.json"; echo; }
outage_of() { python3 -c "import json; d=json.load(open('$WORK/probe-$1.json')); print(int(d['max_outage_ms']))"; }
ended_ok() { python3 -c "import json; d=json.load(open('$WORK/probe-$1.json')); exit(0 if d['ended_ok'] else 1)"; }

await 10 in_sync lb2
check "backup reports it is in sync" in_sync lb2
floatctl_in lb2 get hapeers
check "floatctl get hapeers shows the backup in sync with its peer" sh -c "ip netns exec $(ns lb2) $BIN/floatctl get hapeers | grep -q 'BACKUP .*| yes '"
await 3 est_count_at_least lb2 100
check "backup holds replicas of the 50 sessions (both directions)" est_count_at_least lb2 100

log "failover 1: lb1's links go down"
probe_start f1
# a flow opened 200 ms before the failure must survive too
bg young "$WORK/young.log" ip netns exec "$(ns client)" python3 "$FLOATLB_SRC/tests/netns/sessions.py" hold \
  --target $HA_VIP:7000 --count 1 --interval 0.05 --duration 8 --out "$WORK/young.json"
await 3 test -f "$WORK/young.json.ready"
python3 -c 'import time; time.sleep(0.2)'  # the 200 ms the issue asks for, not a wait for a condition
log "client ARP before: $(in_ns client ip neigh show $HA_VIP); lb1 $(in_ns lb1 cat /sys/class/net/eth0/address) lb2 $(in_ns lb2 cat /sys/class/net/eth0/address)"
link_down lb1
await 3 state_is lb2 MASTER
check "lb2 became MASTER" state_is lb2 MASTER
await 5 can_connect $HA_VIP 7000
python3 -c 'import time; time.sleep(1.0)'  # let the prober record the recovery
probe_stop f1
log "failover 1 outage: $(outage_of f1) ms"
check "new connections succeed again within 1 s ($(outage_of f1) ms)" test "$(outage_of f1)" -lt 1000
check "new connections work after failover 1" ended_ok f1
await 10 test -f "$WORK/young.json"
check "the flow opened 200 ms before the failure survived ($(cat $WORK/young.json))" \
  python3 -c "import json; d=json.load(open('$WORK/young.json')); exit(0 if d['failed']==0 and d['echoed']>20 else 1)"

log "lb1 comes back: it must become BACKUP and receive the full state"
link_up lb1
await 5 state_is lb1 BACKUP
check "returning lb1 is BACKUP (non-preemptive)" state_is lb1 BACKUP
check "lb2 is still MASTER" state_is lb2 MASTER
await 10 in_sync lb1
check "lb1 received the full state from lb2" in_sync lb1

log "failover 2: lb2's links go down, lb1 takes over with the state that flowed back"
probe_start f2
link_down lb2
await 3 state_is lb1 MASTER
check "lb1 became MASTER again" state_is lb1 MASTER
python3 -c 'import time; time.sleep(1.0)'
probe_stop f2
check "new connections succeed again within 1 s ($(outage_of f2) ms)" test "$(outage_of f2)" -lt 1000
link_up lb2
await 5 state_is lb2 BACKUP
await 10 in_sync lb2
check "lb2 is BACKUP and in sync again" in_sync lb2

log "partition: heartbeats (UDP 3784) dropped both ways for 3 s, then healed"
in_ns lb1 nft -f - <<'NFT'
table inet flbpart {
  chain in { type filter hook input priority 0; udp dport 3784 drop; }
  chain out { type filter hook output priority 0; udp dport 3784 drop; }
}
NFT
await 3 masters_are 2
log "during the partition: lb1=$(ha_state lb1) lb2=$(ha_state lb2)"
python3 -c 'import time; time.sleep(3.0)'  # the partition lasts 3 s, as the issue specifies
healed_at=$(date +%s%3N)   # taken before the heal: the loser may step down within milliseconds
in_ns lb1 nft delete table inet flbpart
await 2 masters_are 1
# When did the loser step down? The daemons log every transition with a millisecond timestamp.
heal_ms=$(python3 - "$healed_at" "$WORK/floatlb-lb1.log" "$WORK/floatlb-lb2.log" <<'PY'
import datetime, sys
healed = int(sys.argv[1])
best = None
for path in sys.argv[2:]:
    for line in open(path):
        if "MASTER -> BACKUP" in line and "[ha] llb-inst0" in line:
            ts = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
            ms = int(ts.timestamp() * 1000)
            if ms >= healed and (best is None or ms < best):
                best = ms
print(best - healed if best is not None else 999999)
PY
)
check "after the heal exactly one MASTER within 1 s ($heal_ms ms; lb1=$(ha_state lb1) lb2=$(ha_state lb2))" \
  test "$(masters lb1 lb2)" = 1 -a $heal_ms -lt 1000

log "stopping the sessions"
touch "$WORK/stop"
await 15 test -f "$SESS"
log "sessions: $(cat "$SESS")"
check "all 50 sessions survived everything with no reset or lost message" \
  python3 -c "import json; d=json.load(open('$SESS')); exit(0 if d['failed']==0 and d['sessions']==50 else 1)"
