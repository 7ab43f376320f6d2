#!/usr/bin/env bash
# Chaos 2: the EC2 API restarts in the middle of a takeover: the moment the survivor's
# AttachNetworkInterface reaches EC2 (after its detach, before its associate). For 5 s the
# endpoint behaves as a restarting front end does: every open connection is reset (the attach has
# taken effect, its answer is lost), new connections are refused. Retrying must neither leak nor
# fail on the already-attached ENI. The simulator's state survives, as EC2's does behind its front ends
# (vpcsim has no persistence, so its process itself is not restarted). Then the old master returns.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
source "$(dirname "$0")/chaos_lib.sh"
chaos_start cha

widen_takeover_window
mark=$(sim_mark)
instance_links "$VPCSIM_NS_LB1" down
await 30 sim_called "$mark" "$VPCSIM_IP_LB2" AttachNetworkInterface
ec2_refuse
log "EC2 API gone for 5 s; lb2's calls so far: $(sim_calls "$mark" "$VPCSIM_IP_LB2")"
check "the API went away after lb2's DetachNetworkInterface" sim_called "$mark" "$VPCSIM_IP_LB2" DetachNetworkInterface
check "... with its AttachNetworkInterface in flight" sim_called "$mark" "$VPCSIM_IP_LB2" AttachNetworkInterface
no_associate() { ! sim_called "$mark" "$VPCSIM_IP_LB2" AssociateAddress; }
check "... and before any AssociateAddress" no_associate
refused() { ! ec2_reachable; }
check "the endpoint refuses connections" refused
sleep 5   # the length of the outage (the fault itself, not a wait for a condition)
hits=$(ec2_fault_hits)
ec2_restore
narrow_takeover_window
check "the takeover hit the outage ($hits packets reset or dropped)" test "$hits" -gt 0
check "the endpoint answers again" ec2_reachable
check_took_over "after the API restart" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2" 90
log "lb2's timeline: $(takeover_calls "$VPCSIM_NS_LB2")"
instance_links "$VPCSIM_NS_LB1" up
check_converged "after lb1's return" 60
check "lb1 returns as BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "all 20 sessions survived" sessions_result "$SESS"
