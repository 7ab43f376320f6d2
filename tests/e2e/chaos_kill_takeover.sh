#!/usr/bin/env bash
# Chaos 1: the new master's floatlb is killed with SIGKILL in the middle of its takeover: after it
# detached and deleted the old master's ENI and subnet, the moment its CreateNetworkInterface
# reaches EC2 (the ENI exists, the daemon never learns its id), before any AssociateAddress. Then
# it is started again: the restarted daemon finds the half-done takeover (a new subnet and an
# unattached ENI it does not know) and finishes it; then the old master returns. The pair
# converges: one MASTER, the EIP on its ENI and private VIP, one tagged ENI and subnet (nothing
# leaked), the 20 sessions alive.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
source "$(dirname "$0")/chaos_lib.sh"
chaos_start chk

widen_takeover_window
mark=$(sim_mark)
instance_links "$VPCSIM_NS_LB1" down
await 30 sim_called "$mark" "$VPCSIM_IP_LB2" CreateNetworkInterface
kill9_lb lb2
log "killed lb2's floatlb (SIGKILL); its calls so far: $(sim_calls "$mark" "$VPCSIM_IP_LB2")"
check "the kill came after lb2's DetachNetworkInterface" sim_called "$mark" "$VPCSIM_IP_LB2" DetachNetworkInterface
check "... and its CreateNetworkInterface" sim_called "$mark" "$VPCSIM_IP_LB2" CreateNetworkInterface
no_associate() { ! sim_called "$mark" "$VPCSIM_IP_LB2" AssociateAddress; }
check "... and before any AssociateAddress" no_associate
narrow_takeover_window
log "after the kill (tagged ENIs, subnets, EIP instance, private IP): $(sim_view); restarting lb2's floatlb"
mark=$(sim_mark)
start_lb lb2 "$VPCSIM_NS_LB2" 1 "$VPCSIM_IP_LB1" "$VPCSIM_IP_LB2"
check_took_over "restarted lb2" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2" 60
check "the restarted daemon associated the EIP itself ($(sim_calls "$mark" "$VPCSIM_IP_LB2"))" \
  sim_called "$mark" "$VPCSIM_IP_LB2" AssociateAddress

mark=$(sim_mark)
instance_links "$VPCSIM_NS_LB1" up
check_converged "after the restart and lb1's return" 90
# The restarted lb2 resumed from the epoch it had persisted (ha.epoch) and took over with a higher
# term than lb1's: lb1 returns as the loser of the dual-MASTER tie, no second takeover.
check "the restarted lb2 stays MASTER after lb1 returns (resumed epoch)" is_state "$VPCSIM_NS_LB2" MASTER
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
no_second_takeover() { ! sim_called "$mark" "$VPCSIM_IP_LB1" AssociateAddress; }
check "lb1 made no AssociateAddress after its return ($(sim_calls "$mark" "$VPCSIM_IP_LB1"))" no_second_takeover
check "all 20 sessions survived the kill, the restart and the return" sessions_result "$SESS" 90
