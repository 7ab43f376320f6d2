#!/usr/bin/env bash
# The seed scenario under the failure modes of anchors.md §4.2, one failover each, with the same
# 20 long-lived sessions held through all three:
#   1. AZ-a -> AZ-b while EC2 throttles (mutating bucket: 2 calls, refill 0.5/s) and answers 5xx
#      bursts (CreateNetworkInterface 503 x2, AssociateAddress 500 x2, DeleteSubnet 503 x1);
#   2. AZ-b -> AZ-a with a detach that takes 20 s;
#   3. AZ-a -> AZ-b while the old master comes back in the middle of the takeover (after the
#      survivor's DetachNetworkInterface, before its AssociateAddress).
# Each ends with exactly one MASTER holding the EIP on its ENI, new connections working, exactly one
# tagged ENI and subnet (nothing leaked), and at the end every session still alive.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
seed_start seedf
await 60 eip_on "$VPCSIM_INSTANCE_LB1"
await 30 reach
world_up() { is_state "$VPCSIM_NS_LB1" MASTER && eip_on "$VPCSIM_INSTANCE_LB1" && reach; }
check "seed world up: lb1 MASTER, EIP on lb1's ENI, EIP:$SEED_PORT reachable" world_up
SESS="$WORK/sessions.json"
hold_sessions 20 "$SESS"
check "20 long-lived sessions open" test -f "$SESS.ready"
await 5 replicas_on "$VPCSIM_NS_LB2"
check "lb2 holds the 40 conntrack replicas before the first failover" replicas_on "$VPCSIM_NS_LB2"

one_of_each() { [ "$(tagged_enis)" = 1 ] && [ "$(tagged_subnets)" = 1 ]; }
# settled LABEL SURVIVOR_NS INSTANCE: the end state every fault must reach.
settled() {
  local label=$1 ns=$2 inst=$3
  await 120 eip_on "$inst"
  check "$label: EIP on the survivor's ENI and VIP ($(eip_owner))" eip_on "$inst"
  check "$label: the survivor is MASTER" is_state "$ns" MASTER
  await 30 reach
  check "$label: new connections through the EIP succeed" reach
  await 30 one_of_each
  check "$label: exactly one tagged ENI (nothing leaked)" test "$(tagged_enis)" = 1
  check "$label: exactly one tagged subnet (nothing leaked)" test "$(tagged_subnets)" = 1
  timeline_of "$ns" >"$WORK/timeline.json"
  log "$label: takeover timeline of the survivor: $(json '"restored %sms, converged %sms, %d cycles, %d serial critical calls, retried: %s, failed calls: %s" % (
    d["restoredMs"], d["doneMs"], d["cycles"], d["criticalSerialCalls"],
    ["%s x%d" % (c["action"], c["attempts"]) for c in d["calls"] if c.get("attempts", 1) > 1] or "none",
    [c["action"] + ":" + c.get("error", "").split(":")[0] for c in d["calls"] if not c["ok"]] or "none")' "$WORK/timeline.json")"
  python3 "$FLOATLB_SRC/scripts/timeline.py" <"$WORK/timeline.json"
}
back_as_backup() { # back_as_backup NS: links return, the node rejoins as BACKUP and in sync
  instance_links "$1" up
  await 10 is_state "$1" BACKUP
  await 20 in_sync_ns "$1"
  await 20 replicas_on "$1"
  check "$2 returns as BACKUP" is_state "$1" BACKUP
  check "$2 back: in sync with the MASTER" in_sync_ns "$1"
  check "$2 back: holds the connection state (40 replicas)" replicas_on "$1"
  check "$2 back: exactly one MASTER in the pair" test "$(pair_masters)" = 1
}
# call_ms ACTION [ok|any] [first|last]: start offset (ms from detection) of a call in $WORK/timeline.json
call_ms() {
  json '[c["startMs"] for c in d["calls"] if c["action"]==a[0] and (a[1]=="any" or c["ok"])][-1 if a[2]=="last" else 0]' \
    "$WORK/timeline.json" "$1" "${2:-ok}" "${3:-last}"
}

log "1. throttling and 5xx bursts during the takeover to AZ-b"
sim_admin throttle '{"enabled":true,"buckets":{"mutating":{"capacity":2,"refill_per_s":0.5}}}'
sim_admin faults '{"action":"CreateNetworkInterface","code":"ServiceUnavailable","http_status":503,"count":2}'
sim_admin faults '{"action":"AssociateAddress","code":"InternalError","http_status":500,"count":2}'
sim_admin faults '{"action":"DeleteSubnet","code":"RequestLimitExceeded","http_status":503,"count":1}'
instance_links "$VPCSIM_NS_LB1" down
settled "throttled/5xx" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2"
retried() { # retried NS ACTION MIN_ATTEMPTS: the survivor's last takeover retried that call
  timeline_of "$1" | json_ok 'any(c["action"]==a[0] and c.get("attempts",1)>=int(a[1]) for c in d["calls"])' - "$2" "$3"
}
faults_hit() { retried "$VPCSIM_NS_LB2" CreateNetworkInterface 3 && retried "$VPCSIM_NS_LB2" AssociateAddress 3; }
check "throttled/5xx: the faults hit the takeover (CreateNetworkInterface and AssociateAddress retried)" faults_hit
curl -sf -X DELETE "$VPCSIM_EC2_ENDPOINT/admin/faults" >/dev/null
sim_admin throttle '{"enabled":false}'
back_as_backup "$VPCSIM_NS_LB1" lb1

log "2. a detach that takes 20 s, takeover to AZ-a"
sim_admin config '{"detach_ms":20000}'
instance_links "$VPCSIM_NS_LB2" down
settled "20 s detach" "$VPCSIM_NS_LB1" "$VPCSIM_INSTANCE_LB1"
# From the survivor's timeline: the EIP's AssociateAddress started only after the old ENI's detach
# had completed: 20 s after the DetachNetworkInterface call, and after the waiter's last poll.
detach_at=$(call_ms DetachNetworkInterface || echo -100000)
assoc_at=$(call_ms AssociateAddress || echo -100000)
detach_done=$(json 'max([c["startMs"] + c["latencyMs"] for c in d["calls"] if c["action"]=="DescribeNetworkInterfaces"
  and c.get("poll") and c["startMs"] < int(a[0])] or [-1])' "$WORK/timeline.json" "$assoc_at" || echo -1)
check "20 s detach: AssociateAddress started $(( assoc_at - detach_at )) ms after DetachNetworkInterface (>= 20000)" \
  test $(( assoc_at - detach_at )) -ge 20000
check "20 s detach: AssociateAddress ($assoc_at ms) started after the detach waiter's last poll ended ($detach_done ms)" \
  test "$detach_done" -gt "$detach_at" -a "$assoc_at" -ge "$detach_done"
sim_admin config '{"detach_ms":2000}'
back_as_backup "$VPCSIM_NS_LB2" lb2

log "3. the old master comes back in the middle of the takeover to AZ-b"
t_fail=$(date +%s%3N)
instance_links "$VPCSIM_NS_LB1" down
# current_takeover_has ACTION: the survivor's timeline started after this failure and has an OK call.
current_takeover_has() {
  timeline_of "$VPCSIM_NS_LB2" |
    json_ok 'd.get("detectedWallMs",0)>=int(a[0]) and any(c["action"]==a[1] and c["ok"] for c in d["calls"])' - "$t_fail" "$1"
}
await 20 current_takeover_has DetachNetworkInterface
check "mid-takeover: the survivor has detached the old ENI" current_takeover_has DetachNetworkInterface
not_associated() { ! current_takeover_has AssociateAddress; }
check "mid-takeover: the EIP is not associated yet" not_associated
instance_links "$VPCSIM_NS_LB1" up
t_up=$(date +%s%3N)
settled "old master back mid-takeover" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2"
# Proven afterwards from the timeline: lb1's links were back before the survivor's AssociateAddress.
assoc_wall=$(( $(json 'd["detectedWallMs"]' "$WORK/timeline.json" || echo 0) + $(call_ms AssociateAddress any first || echo 0) ))
check "mid-takeover: lb1 came back ($t_up) before the survivor's first AssociateAddress started ($assoc_wall, $(( assoc_wall - t_up )) ms later)" \
  test "$t_up" -lt "$assoc_wall"
check "mid-takeover: the returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "mid-takeover: exactly one MASTER in the pair" test "$(pair_masters)" = 1

check "all 20 sessions survived the three faulty failovers (opened, none reset, ended by the stop file, no pause > 60 s)" \
  sessions_result "$SESS" 60
