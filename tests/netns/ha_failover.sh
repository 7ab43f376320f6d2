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
# 200 s: only the stop file may end the sessions; if the test runs that long they end "early" and fail.
bg sessions "$WORK/sessions.log" ip netns exec "$(ns client)" $PY "$SESSIONS_PY" hold \
  --target $HA_VIP:7000 --count 50 --interval 0.05 --duration 200 --out "$SESS" --stop-file "$WORK/stop"
await 10 test -f "$SESS.ready"
check "50 sessions established through the MASTER" test -f "$SESS.ready"
probe_start() { # probe_start NAME: new connections every 10 ms until stop-NAME exists
  bg "probe_$1" "$WORK/probe-$1.log" ip netns exec "$(ns client)" $PY "$SESSIONS_PY" probe \
    --target $HA_VIP:7000 --interval 0.01 --duration 20 --out "$WORK/probe-$1.json" --stop-file "$WORK/stop-$1"
  await 5 test -f "$WORK/probe-$1.json.ready"
  check "$1: the prober sees the service up before we break it" test -f "$WORK/probe-$1.json.ready"
}
# probe_ok_after NAME T_MS: the prober recorded a successful new connection at or after T_MS (wall ms).
probe_ok_after() { [ "$(cat "$WORK/probe-$1.json.lastok" 2>/dev/null || echo 0)" -ge "$2" ]; }
probe_stop() { touch "$WORK/stop-$1"; await 25 test -f "$WORK/probe-$1.json"; cat "$WORK/probe-$1.json"; echo; }
outage_of() { json 'int(d["max_outage_ms"])' "$WORK/probe-$1.json" 2>/dev/null || echo 999999; }
ended_ok() { json_ok 'd["ended_ok"]' "$WORK/probe-$1.json"; }
# failover_checks NAME NEW_MASTER: after NAME's failure the new MASTER serves new connections.
failover_checks() {
  local t_master
  t_master=$(date +%s%3N)
  await 5 probe_ok_after "$1" "$t_master"
  check "$1: the prober saw new connections succeed through the new MASTER $2" probe_ok_after "$1" "$t_master"
  probe_stop "$1"
  log "$1 outage: $(outage_of "$1") ms"
  check "$1: new connections succeed again within 1 s ($(outage_of "$1") ms, an outage still open at the end counts)" \
    test "$(outage_of "$1")" -lt 1000
  check "$1: new connections work at the end of the probe" ended_ok "$1"
}

await 10 in_sync lb2
check "backup reports it is in sync" in_sync lb2
floatctl_in lb2 get hapeers
hapeers_in_sync() { floatctl_in lb2 get hapeers | grep -q 'BACKUP .*| yes '; }
check "floatctl get hapeers shows the backup in sync with its peer" hapeers_in_sync
await 3 est_count_at_least lb2 100
check "backup holds replicas of the 50 sessions (both directions)" est_count_at_least lb2 100

# The MASTER owns the VIP: a /32 on lo; the BACKUP does not have it.
vip_on_lo() { ip -n "$(ns "$1")" -4 addr show dev lo | grep -q "inet $HA_VIP/32"; }
no_vip_on_lo() { ! vip_on_lo "$1"; }
await 3 vip_on_lo lb1
check "MASTER lb1 holds $HA_VIP/32 on lo" vip_on_lo lb1
check "BACKUP lb2 does not hold $HA_VIP on lo" no_vip_on_lo lb2
# Gratuitous ARP: every ARP frame on the client's segment, with the link-layer header.
bg garp "$WORK/arp.log" ip netns exec "$(ns client)" tcpdump -l -nn -e -i eth0 arp
# garp_from NS SINCE: after line SINCE of the capture, a gratuitous ARP for the VIP (sender = target
# = VIP, to broadcast) from NS's eth0 MAC
garp_from() {
  local mac
  mac=$(in_ns "$1" cat /sys/class/net/eth0/address)
  tail -n +"$(($2 + 1))" "$WORK/arp.log" |
    grep -qE "^[0-9:.]+ $mac > ff:ff:ff:ff:ff:ff.*(Request who-has $HA_VIP tell $HA_VIP|Reply $HA_VIP is-at $mac)"
}
arp_lines() { wc -l <"$WORK/arp.log"; }
await 3 grep -q "listening on eth0" "$WORK/arp.log"

log "failover 1: lb1's links go down"
probe_start f1
# Sync lag: a flow opened 100 ms before the failure must survive too (the BACKUP must hold its
# conntrack entries by then). sessions.py trigger takes lb1's links down exactly 100 ms after the
# young session connected (shell polling is too coarse on a loaded machine) and reports the age.
arp_f1=$(arp_lines)
printf 'link set eth0 down\nlink set eth1 down\n' >"$WORK/lb1-down.batch"
$PY "$SESSIONS_PY" trigger --out "$WORK/young.json" --after-ms 100 --timeout 10 -- \
  ip -n "$(ns lb1)" -batch "$WORK/lb1-down.batch" >"$WORK/trigger.out" 2>&1 &
trigger=$!
_PIDS+=("$trigger")
await 10 test -f "$WORK/young.json.armed"
bg young "$WORK/young.log" ip netns exec "$(ns client)" $PY "$SESSIONS_PY" hold \
  --target $HA_VIP:7000 --count 1 --interval 0.05 --duration 30 --out "$WORK/young.json" --stop-file "$WORK/stop-young"
wait "$trigger" || true
age=$(tail -n 1 "$WORK/trigger.out")
check "the young flow was open and lb1's links went down ${age} ms after it connected" test "$age" -ge 100 -a "$age" -le 150
await 3 state_is lb2 MASTER
check "lb2 became MASTER" state_is lb2 MASTER
await 3 vip_on_lo lb2
check "new MASTER lb2 holds $HA_VIP/32 on lo" vip_on_lo lb2
await 3 garp_from lb2 "$arp_f1"
check "new MASTER lb2 sent a gratuitous ARP for $HA_VIP from its eth0 MAC" garp_from lb2 "$arp_f1"
failover_checks f1 lb2
touch "$WORK/stop-young"
await 10 test -f "$WORK/young.json"
check "the flow opened ${age} ms before the failure survived ($(cat "$WORK/young.json"))" \
  $PY "$SESSIONS_PY" verify --out "$WORK/young.json" --count 1 --max-gap-ms 2000

log "lb1 comes back: it must become BACKUP and receive the full state"
link_up lb1
await 5 state_is lb1 BACKUP
check "returning lb1 is BACKUP (non-preemptive)" state_is lb1 BACKUP
check "lb2 is still MASTER" state_is lb2 MASTER
await 10 in_sync lb1
check "lb1 received the full state from lb2" in_sync lb1

log "failover 2: lb2's links go down, lb1 takes over with the state that flowed back"
check "returning lb1 (BACKUP) dropped $HA_VIP from lo" no_vip_on_lo lb1
probe_start f2
arp_f2=$(arp_lines)
link_down lb2
await 3 state_is lb1 MASTER
check "lb1 became MASTER again" state_is lb1 MASTER
await 3 garp_from lb1 "$arp_f2"
check "lb1 sent a gratuitous ARP for $HA_VIP when it took over again" garp_from lb1 "$arp_f2"
failover_checks f2 lb1
link_up lb2
await 5 state_is lb2 BACKUP
await 10 in_sync lb2
check "lb2 is BACKUP again" state_is lb2 BACKUP
check "lb2 is in sync again" in_sync lb2
await 3 no_vip_on_lo lb2
check "BACKUP lb2 released $HA_VIP from lo" no_vip_on_lo lb2

log "partition: heartbeats (UDP 3784) dropped both ways for 3 s, then healed"
in_ns lb1 nft -f - <<'NFT'
table inet flbpart {
  chain in { type filter hook input priority 0; udp dport 3784 drop; }
  chain out { type filter hook output priority 0; udp dport 3784 drop; }
}
NFT
await 3 masters_are 2
check "during the partition both are MASTER (lb1=$(ha_state lb1) lb2=$(ha_state lb2))" masters_are 2
sleep 3  # the partition lasts 3 s, as the issue specifies: a time span, not a condition
healed_at=$(date +%s%3N)   # taken before the heal: the loser may step down within milliseconds
in_ns lb1 nft delete table inet flbpart
await 2 masters_are 1
# When did the loser step down? The daemons log every transition with a millisecond timestamp.
heal_ms=$($PY - "$healed_at" "$WORK/floatlb-lb1.log" "$WORK/floatlb-lb2.log" <<'PY'
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
  test "$(masters "$(ns lb1)" "$(ns lb2)")" = 1 -a $heal_ms -lt 1000

log "stopping the sessions"
touch "$WORK/stop"
await 15 test -f "$SESS"
log "sessions: $(cat "$SESS")"
# The longest pause any session saw: both failovers (~320 ms outage plus TCP's retransmission
# back-off) and the partition must stay well under the 3 s echo timeout.
check "all 50 sessions survived everything: all opened, none reset, ended by the stop file, no pause > 2 s" \
  $PY "$SESSIONS_PY" verify --out "$SESS" --count 50 --max-gap-ms 2000
