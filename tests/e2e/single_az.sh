#!/usr/bin/env bash
# Single-AZ floating IP (`--cloud=aws` without `--cloudcidrblock`): both floatlb instances and the
# nodes in one subnet; the private VIP 192.168.218.200 is a secondary IP that the MASTER moves onto
# its own primary ENI (AssignPrivateIpAddresses, AllowReassignment) and the Elastic IP follows it.
# The master's links go down: the survivor takes the VIP with one call, sessions continue.
SEED_TOPOLOGY=single-az.json
SEED_PVIP=192.168.218.200
SEED_CLOUD_FLAGS=""
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
seed_start saz
await 30 eip_on "$VPCSIM_INSTANCE_LB1"
check "lb1 MASTER holds the secondary VIP $SEED_PVIP and the EIP ($(eip_owner))" eip_on "$VPCSIM_INSTANCE_LB1"
await 30 reach
check "internet client reaches EIP:$SEED_PORT through lb1" reach
SESS="$WORK/sessions.json"
hold_sessions 20 "$SESS"
check "20 long-lived sessions open" test -f "$SESS.ready"
await 5 replicas_on "$VPCSIM_NS_LB2"
check "lb2 holds the 40 conntrack replicas" replicas_on "$VPCSIM_NS_LB2"

t0=$(date +%s%3N)
instance_links "$VPCSIM_NS_LB1" down
await 5 is_state "$VPCSIM_NS_LB2" MASTER
check "lb2 becomes MASTER" is_state "$VPCSIM_NS_LB2" MASTER
await 30 eip_on "$VPCSIM_INSTANCE_LB2"
check "the VIP moved to lb2's primary ENI and the EIP followed ($(( $(date +%s%3N) - t0 )) ms; $(eip_owner))" \
  eip_on "$VPCSIM_INSTANCE_LB2"
await 30 reach
check "new connections through the EIP succeed" reach
few_calls() {
  timeline_of "$VPCSIM_NS_LB2" | python3 -c '
import json,sys
t=json.load(sys.stdin)
print("restored after %s ms, %d serial EC2 calls" % (t["restoredMs"], t["criticalSerialCalls"]), file=sys.stderr)
sys.exit(0 if t["converged"] and t["criticalSerialCalls"] <= 3 else 1)'
}
check "single-AZ takeover: at most 3 serial EC2 calls (ENIs + EIPs together, subnets, assign)" few_calls
no_tagged() { [ "$(tagged_enis) $(tagged_subnets)" = "0 0" ]; }
check "no ENI or subnet was created" no_tagged
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "all 20 sessions survived" sessions_result "$SESS"
