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
timeline_of "$VPCSIM_NS_LB2" >"$WORK/timeline.json"
log "single-AZ takeover: restored after $(json 'd["restoredMs"]' "$WORK/timeline.json") ms, $(json 'd["criticalSerialCalls"]' "$WORK/timeline.json") serial EC2 calls"
few_calls() { json_ok 'd["converged"] and d["criticalSerialCalls"] <= 3' "$WORK/timeline.json"; }
check "single-AZ takeover: at most 3 serial EC2 calls (ENIs + EIPs together, subnets, assign)" few_calls
# The same count from vpcsim's request log, up to the call that moves the VIP.
serial=$(ec2_serial "$VPCSIM_IP_LB2" "$(json 'd["detectedWallMs"]' "$WORK/timeline.json")" AssignPrivateIpAddresses)
check "single-AZ takeover: vpcsim saw at most 3 serial EC2 calls up to AssignPrivateIpAddresses ($serial)" \
  test "$serial" != none -a "$serial" -le 3
no_tagged() { [ "$(tagged_enis) $(tagged_subnets)" = "0 0" ]; }
check "no ENI or subnet was created" no_tagged
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "all 20 sessions survived (opened, none reset, ended by the stop file, no pause > 30 s)" sessions_result "$SESS" 30
