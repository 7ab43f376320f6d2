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
  log "$label: takeover timeline of the survivor: $(timeline_of "$ns" | python3 -c '
import json,sys
t=json.load(sys.stdin)
fails=[c["action"]+":"+c.get("error","").split(":")[0] for c in t["calls"] if not c["ok"]]
retried=["%s x%d" % (c["action"], c["attempts"]) for c in t["calls"] if c.get("attempts",1)>1]
print("restored %sms, converged %sms, %d cycles, %d serial critical calls, retried: %s, failed calls: %s" % (
  t["restoredMs"], t["doneMs"], t["cycles"], t["criticalSerialCalls"], retried or "none", fails or "none"))')"
}
back_as_backup() { # back_as_backup NS: links return, the node rejoins as BACKUP and in sync
  instance_links "$1" up
  await 10 is_state "$1" BACKUP
  await 20 replicas_on "$1"
  backup_in_sync() { is_state "$1" BACKUP && replicas_on "$1"; }
  check "$2 returns as BACKUP with the connection state" backup_in_sync "$1"
  check "$2 back: exactly one MASTER in the pair" test "$(masters)" = 1
}

log "1. throttling and 5xx bursts during the takeover to AZ-b"
sim_admin throttle '{"enabled":true,"buckets":{"mutating":{"capacity":2,"refill_per_s":0.5}}}'
sim_admin faults '{"action":"CreateNetworkInterface","code":"ServiceUnavailable","http_status":503,"count":2}'
sim_admin faults '{"action":"AssociateAddress","code":"InternalError","http_status":500,"count":2}'
sim_admin faults '{"action":"DeleteSubnet","code":"RequestLimitExceeded","http_status":503,"count":1}'
instance_links "$VPCSIM_NS_LB1" down
settled "throttled/5xx" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2"
retried() { # retried ACTION MIN_ATTEMPTS: the survivor's last takeover retried that call
  timeline_of "$1" | python3 -c '
import json,sys
t=json.load(sys.stdin)
sys.exit(0 if any(c["action"]==sys.argv[1] and c.get("attempts",1)>=int(sys.argv[2]) for c in t["calls"]) else 1)' "$2" "$3"
}
faults_hit() { retried "$VPCSIM_NS_LB2" CreateNetworkInterface 3 && retried "$VPCSIM_NS_LB2" AssociateAddress 3; }
check "throttled/5xx: the faults hit the takeover (CreateNetworkInterface and AssociateAddress retried)" faults_hit
curl -sf -X DELETE "$VPCSIM_EC2_ENDPOINT/admin/faults" >/dev/null
sim_admin throttle '{"enabled":false}'
back_as_backup "$VPCSIM_NS_LB1" lb1

log "2. a detach that takes 20 s, takeover to AZ-a"
sim_admin config '{"detach_ms":20000}'
t0=$(date +%s)
instance_links "$VPCSIM_NS_LB2" down
settled "20 s detach" "$VPCSIM_NS_LB1" "$VPCSIM_INSTANCE_LB1"
check "20 s detach: the takeover waited for it (EIP moved after $(( $(date +%s) - t0 )) s)" \
  test $(( $(date +%s) - t0 )) -ge 20
sim_admin config '{"detach_ms":2000}'
back_as_backup "$VPCSIM_NS_LB2" lb2

log "3. the old master comes back in the middle of the takeover to AZ-b"
t_fail=$(date +%s%3N)
instance_links "$VPCSIM_NS_LB1" down
# current_takeover_has ACTION: the survivor's timeline started after this failure and has an OK call.
current_takeover_has() {
  timeline_of "$VPCSIM_NS_LB2" | python3 -c '
import json,sys
t=json.load(sys.stdin)
ok=t.get("detectedWallMs",0)>=int(sys.argv[1]) and any(c["action"]==sys.argv[2] and c["ok"] for c in t["calls"])
sys.exit(0 if ok else 1)' "$t_fail" "$1"
}
await 20 current_takeover_has DetachNetworkInterface
check "mid-takeover: the survivor has detached the old ENI" current_takeover_has DetachNetworkInterface
not_associated() { ! current_takeover_has AssociateAddress; }
check "mid-takeover: the EIP is not associated yet" not_associated
instance_links "$VPCSIM_NS_LB1" up
settled "old master back mid-takeover" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2"
check "mid-takeover: the returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "mid-takeover: exactly one MASTER in the pair" test "$(masters)" = 1

check "all 20 sessions survived the three faulty failovers" sessions_result "$SESS"
