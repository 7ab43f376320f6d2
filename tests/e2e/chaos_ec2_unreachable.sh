#!/usr/bin/env bash
# Chaos 3: the EC2 endpoint is unreachable for 30 s during a failover: from the moment the
# survivor starts its takeover, every packet to and from 169.254.169.254:80 is dropped (calls time
# out, IMDS too). The takeover cannot finish meanwhile; once the endpoint is back it must, with
# nothing leaked, and the old master then returns as BACKUP.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
source "$(dirname "$0")/chaos_lib.sh"
chaos_start che

mark=$(sim_mark)
instance_links "$VPCSIM_NS_LB1" down
await 20 sim_called "$mark" "$VPCSIM_IP_LB2" DetachNetworkInterface
ec2_blackhole
log "EC2 endpoint unreachable for 30 s; lb2's calls so far: $(sim_calls "$mark" "$VPCSIM_IP_LB2")"
check "lb2 had started its takeover (DetachNetworkInterface) when the endpoint went away" \
  sim_called "$mark" "$VPCSIM_IP_LB2" DetachNetworkInterface
unreachable() { ! ec2_reachable; }
check "the endpoint is unreachable" unreachable
sleep 30  # the length of the outage (the fault itself, not a wait for a condition)
view=$(sim_view)
check "no takeover completed while the endpoint was unreachable ($view)" test "${view#* * }" != "$VPCSIM_INSTANCE_LB2 $SEED_PVIP"
hits=$(ec2_fault_hits)
ec2_restore
check "the takeover's calls hit the outage ($hits packets dropped)" test "$hits" -gt 0
t_back=$(date +%s%3N)
check_took_over "after the 30 s outage" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2" 90
log "lb2 done $(( $(date +%s%3N) - t_back )) ms after the endpoint returned; timeline: $(takeover_calls "$VPCSIM_NS_LB2")"
instance_links "$VPCSIM_NS_LB1" up
check_converged "after lb1's return" 60
check "lb1 returns as BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "all 20 sessions survived" sessions_result "$SESS"
