#!/usr/bin/env bash
# The seed scenario end to end, in vpcsim's seed topology: one Elastic IP, two floatlb instances in
# two availability zones (heartbeats decide the roles), a fullnat service EIP:55002 -> the nodes.
# The internet client keeps long-lived sessions open; the master's links go down; the backup in the
# other AZ becomes MASTER and moves the VIP subnet, the ENI, the private VIP and the EIP into its
# AZ; sessions continue. Then the old master returns as BACKUP and we fail over back again.
# FLB_DEMO=1 (scripts/demo.sh) prints the tables and the full takeover timelines on the way.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
log "starting vpcsim (seed topology, default latency model) and two floatlb instances"
seed_start seed
roles_elected() { is_state "$VPCSIM_NS_LB1" MASTER && is_state "$VPCSIM_NS_LB2" BACKUP; }
check "lb1 (AZ-a) is MASTER, lb2 (AZ-b) BACKUP" roles_elected
await 60 reach
check "internet client reaches EIP:$SEED_PORT through lb1" reach
await 30 eip_on "$VPCSIM_INSTANCE_LB1"
check "EIP is associated with lb1's ENI and the private VIP ($(eip_owner))" eip_on "$VPCSIM_INSTANCE_LB1"
if [ -n "${FLB_DEMO:-}" ]; then
  log "lb1 (AZ-a) after start: rules, HA state, awscli's view, its first takeover"
  nsx "$VPCSIM_NS_LB1" "$BIN/floatctl" get lb -o wide
  nsx "$VPCSIM_NS_LB1" "$BIN/floatctl" get ha
  show_aws
  timeline_of "$VPCSIM_NS_LB1" | python3 "$FLOATLB_SRC/scripts/timeline.py"
fi

SESS="$WORK/sessions.json"
hold_sessions 20 "$SESS"
check "20 long-lived sessions open through the EIP" test -f "$SESS.ready"
await 5 replicas_on "$VPCSIM_NS_LB2"
check "the backup in AZ-b holds the 40 conntrack replicas" replicas_on "$VPCSIM_NS_LB2"

failover() { # failover FROM_NS TO_NS TO_INSTANCE LABEL TO_IP
  local from=$1 to=$2 inst=$3 label=$4 to_ip=$5
  log "$label: taking $from's links down"
  local t0 t1
  t0=$(date +%s%3N)
  instance_links "$from" down
  await 5 is_state "$to" MASTER
  check "$label: the survivor is MASTER" is_state "$to" MASTER
  # When does the EIP answer again? A short connect probe from the internet (0.3 s: one SYN, no
  # retransmit), so the measurement's resolution is ~0.35 s rather than a 2 s connect timeout.
  reach_quick() { nsx "$VPCSIM_NS_INET" timeout 0.3 bash -c "exec 3<>/dev/tcp/$EIP/$SEED_PORT"; }
  await 90 reach_quick
  t1=$(date +%s%3N)
  # README: "~6.5-7.5 s until the EIP answers from the new AZ with vpcsim's default EC2 latencies"
  # (detection ~1 s + 11 serial calls, of which CreateNetworkInterface 1.8 s, the detach 2 s and
  # AssociateAddress 1 s). 9 s is the bound that claim is held to on a loaded 2-core machine.
  check "$label: the EIP answers from the new AZ $((t1 - t0)) ms after the failure (README: ~6.5-7.5 s; bound 9,000 ms)" \
    test $((t1 - t0)) -le 9000
  check "$label: EIP moved to the survivor's ENI ($(eip_owner))" eip_on "$inst"
  check "$label: new connections through the EIP succeed" reach
  check "$label: exactly one floatlb ENI left" test "$(tagged_enis)" = 1
  check "$label: exactly one floatlb subnet left" test "$(tagged_subnets)" = 1
  floatctl_says_master() { nsx "$to" "$BIN/floatctl" get ha | grep -q '| *llb-inst0 *| *MASTER *|'; }
  check "$label: floatctl get ha on the survivor reports MASTER" floatctl_says_master
  check "$label: awscli shows the tagged ENI attached to the survivor ($inst)" tagged_eni_on "$inst"
  nsx "$to" "$BIN/floatctl" get ha
  # "11 serial EC2 calls before traffic is back", counted by vpcsim (its request log), not by floatlb.
  local tl="$WORK/timeline-$label.json" detected serial
  timeline_of "$to" >"$tl"
  detected=$(json 'd["detectedWallMs"]' "$tl" 2>/dev/null || echo 0)
  serial=$(ec2_serial "$to_ip" "$detected")
  ec2_calls "$to_ip" "$detected" | head -n 40
  check "$label: vpcsim received exactly 11 serial EC2 calls up to the EIP's AssociateAddress ($serial)" test "$serial" = 11
  check "$label: the timeline agrees with vpcsim ($(json 'd["criticalSerialCalls"]' "$tl") serial critical calls)" \
    json_ok 'd["criticalSerialCalls"] == int(a[0])' "$tl" "$serial"
  # scripts/timeline.py renders this timeline: one row per call and the summary line.
  local shown="$WORK/timeline-$label.txt"
  python3 "$FLOATLB_SRC/scripts/timeline.py" <"$tl" >"$shown"
  timeline_rendered() {
    [ "$(grep -cE '^ *[0-9]+ +[0-9]+ +[0-9]+  (critical|deferred|parallel) ' "$shown")" = "$(json 'len(d["calls"])' "$tl")" ] &&
      grep -q "traffic restored after $(json 'd["restoredMs"]' "$tl") ms ($(json 'd["criticalSerialCalls"]' "$tl") serial EC2 calls" "$shown"
  }
  check "$label: scripts/timeline.py prints every call of the timeline and its summary" timeline_rendered
  if [ -n "${FLB_DEMO:-}" ]; then
    log "$label: what awscli sees"
    show_aws
    log "$label: takeover timeline of the survivor (GET /netlox/v1/config/cloud/timeline)"
    cat "$shown"
  fi
}
failover "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2" "failover to AZ-b" "$VPCSIM_IP_LB2"

log "lb1 comes back: BACKUP, then fail over back to AZ-a"
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
await 20 in_sync_ns "$VPCSIM_NS_LB1"
check "lb1 received the connection state from lb2" in_sync_ns "$VPCSIM_NS_LB1"
failover "$VPCSIM_NS_LB2" "$VPCSIM_NS_LB1" "$VPCSIM_INSTANCE_LB1" "failover back to AZ-a" "$VPCSIM_IP_LB1"

check "all 20 sessions survived both failovers (opened, none reset, ended by the stop file, no pause > 30 s)" \
  sessions_result "$SESS" 30

log "shutdown: the BACKUP leaves the cloud resources alone, the last node cleans up"
stop_lb lb2
await 10 sh -c "! kill -0 $PID_floatlb_lb2 2>/dev/null"
check "after the BACKUP stopped, the ENI and subnet are still there" test "$(tagged_enis) $(tagged_subnets)" = "1 1"
peer_dead() { nsx "$VPCSIM_NS_LB1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/metrics | grep -q '^floatlb_ha_peer_alive 0'; }
await 5 peer_dead
stop_lb lb1
await 30 sh -c "! kill -0 $PID_floatlb_lb1 2>/dev/null"
nothing_left() { [ "$(tagged_enis) $(tagged_subnets)" = "0 0" ]; }
check "the last node deleted the tagged ENI and subnet on shutdown" nothing_left
