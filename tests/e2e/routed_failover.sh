#!/usr/bin/env bash
# Routed multi-AZ failover end to end (issue 12, docs/cloud-hook.md "routed mode"): vpcsim's routed
# seed (AZ-c holds the VIP subnet, its ENI and the EIP association, which never move), two floatlb
# instances with --cloudmode=routed. vpcsim realises the route tables in its router namespace
# (docs/vpcsim.md "Routes"): the gateway route table after the EIP NAT, the main table's
# more-specific route, the source/dest check. Checked here:
#  - awscli sees the prepared routes; replace-route --dry-run answers DryRunOperation;
#  - 20 held sessions through the EIP, the master's links down -> the EIP answers from the other AZ
#    within 1 s (outage measured by a 50 ms probe from the internet client), back again, sessions intact;
#  - a partition between the LBs (both alive) and its heal: one MASTER, routes on it, <= 2
#    ReplaceRoutes (vpcsim's request log) from the heal on;
#  - a forgotten source/dest check: `flb-ec2 check` reports it and the EIP stops answering.
SEED_TOPOLOGY=seed-routed.json
SEED_CLOUD_FLAGS="--cloudcidrblock=192.168.248.0/24 --cloudmode=routed"
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
log "starting vpcsim (routed seed, default latency model) and two floatlb instances (--cloudmode=routed)"
seed_start routed

# block_target TABLE_FILTER: the ENI the VIP block's route of that table points at.
block_target() {
  aws_ describe-route-tables --filters "$1" |
    json '",".join(r.get("NetworkInterfaceId", r.get("GatewayId", "?")) for t in d["RouteTables"] for r in t["Routes"] if r["DestinationCidrBlock"] == "192.168.248.0/24") or "-"'
}
gw_target() { block_target "Name=association.gateway-id,Values=$VPCSIM_IGW_ID"; }
main_target() { block_target "Name=association.main,Values=true"; }
routes_on() { [ "$(gw_target) $(main_target)" = "$1 $1" ]; }
# routes_at ENI: the same from vpcsim's state dump (awscli costs seconds per call on a loaded
# machine; polls use this, the checks awscli).
routes_at() {
  curl -sf -m 2 "$VPCSIM_ADMIN/state" | json_ok \
    '[r["network_interface"] for t in d["route_tables"] for r in t["routes"] if r["dest"] == "192.168.248.0/24"] == [a[0], a[0]]' - "$1"
}
await 60 routes_at "$VPCSIM_ENI_LB1"
check "awscli: gateway and main route tables send the VIP block to lb1's ENI ($(gw_target) $(main_target))" \
  routes_on "$VPCSIM_ENI_LB1"
await 30 reach
check "internet client reaches EIP:$SEED_PORT through lb1" reach
GW_RTB=$(aws_ describe-route-tables --filters "Name=association.gateway-id,Values=$VPCSIM_IGW_ID" |
  json 'd["RouteTables"][0]["RouteTableId"]')
dry_run_code() {
  aws_ replace-route --dry-run --route-table-id "$GW_RTB" --destination-cidr-block 192.168.248.0/24 \
    --network-interface-id "$VPCSIM_ENI_LB2" 2>&1 | grep -o 'DryRunOperation' | head -1
}
check "awscli replace-route --dry-run answers DryRunOperation" test "$(dry_run_code)" = DryRunOperation
check "... and changed nothing" routes_on "$VPCSIM_ENI_LB1"
flb_check() { # flb_check NS: flb-ec2 check from inside an instance (IMDS identity, instance role)
  nsx "$1" env -i AWS_REGION="$VPCSIM_REGION" AWS_ENDPOINT_URL_EC2="$VPCSIM_VPC_ENDPOINT" \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="$VPCSIM_VPC_ENDPOINT" "$BIN/flb-ec2" check --mode routed \
    --cidr 192.168.248.0/24 --vip "$SEED_PVIP=$EIP" --peer "$2"
}
flb_check "$VPCSIM_NS_LB1" "$VPCSIM_IP_LB2" >"$WORK/check-ok.txt" 2>&1
check "flb-ec2 check on lb1: ready ($(tail -n 1 "$WORK/check-ok.txt"))" grep -q '^check routed: ready' "$WORK/check-ok.txt"

eip_assoc() { aws_ describe-addresses --public-ips "$EIP" | json 'd["Addresses"][0].get("AssociationId", "-")'; }
EIP_ASSOC=$(eip_assoc)
check "the EIP is associated once, with the private VIP ($(eip_owner))" test "$(eip_owner | cut -d" " -f2)" = "$SEED_PVIP"
SESS="$WORK/sessions.json"
hold_sessions 20 "$SESS"
check "20 long-lived sessions open through the EIP" test -f "$SESS.ready"
await 5 replicas_on "$VPCSIM_NS_LB2"
check "the backup in AZ-b holds the 40 conntrack replicas" replicas_on "$VPCSIM_NS_LB2"

endpoints_up() {
  [ "$(nsx "$1" curl -s -m 2 http://127.0.0.1:11111/netlox/v1/metrics | grep -c '^floatlb_endpoint_up{.*} 1$')" -ge 2 ]
}
# failover FROM_NS TO_NS TO_ENI LABEL: the master's links go down; a 50 ms probe from the internet
# client measures the outage of new connections through the EIP.
failover() {
  local from=$1 to=$2 eni=$3 label=$4 probe="$WORK/probe-$RANDOM.json"
  bg "probe_$RANDOM" "$probe.log" ip netns exec "$VPCSIM_NS_INET" $PY "$SESSIONS_PY" probe \
    --target "$EIP:$SEED_PORT" --interval 0.05 --duration 60 --out "$probe" --stop-file "$probe.stop"
  await 5 test -f "$probe.ready"
  log "$label: taking $from's links down"
  instance_links "$from" down
  await 5 is_state "$to" MASTER
  check "$label: the survivor is MASTER" is_state "$to" MASTER
  await 10 routes_at "$eni"
  check "$label: both route tables point at the survivor's ENI" routes_on "$eni"
  # the probe must see the EIP answer again, then run a little longer
  await 10 sh -c "[ -f $probe.lastok ] && [ \$(( \$(date +%s%3N) - \$(cat $probe.lastok) )) -lt 200 ]"
  touch "$probe.stop"
  await 10 test -f "$probe"
  log "$label: probe $(cat "$probe" 2>/dev/null)"
  OUTAGE_MS=$(json 'int(d["max_outage_ms"])' "$probe" 2>/dev/null || echo 99999)
  check "$label: the EIP answers from the other AZ ${OUTAGE_MS} ms after the failure (< 1000 ms)" \
    json_ok 'd["ended_ok"] and d["max_outage_ms"] < 1000' "$probe"
}
failover "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2" "$VPCSIM_ENI_LB2" "failover to AZ-b"
check "no EIP re-association: the EIP's association is unchanged ($(eip_owner))" test "$(eip_assoc)" = "$EIP_ASSOC"
log "lb1 comes back: BACKUP, then fail over back to AZ-a"
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
check "the routes stayed on lb2" routes_on "$VPCSIM_ENI_LB2"
await 20 in_sync_ns "$VPCSIM_NS_LB1"
check "lb1 received the connection state from lb2" in_sync_ns "$VPCSIM_NS_LB1"
# Its endpoints went DOWN while its links were (health probes); it is ready to take over once a
# probe round saw them again (up to one probe interval after the links came back).
await 20 endpoints_up "$VPCSIM_NS_LB1"
check "lb1's probes see both endpoints again" endpoints_up "$VPCSIM_NS_LB1"
failover "$VPCSIM_NS_LB2" "$VPCSIM_NS_LB1" "$VPCSIM_ENI_LB1" "failover back to AZ-a"
instance_links "$VPCSIM_NS_LB2" up
await 10 is_state "$VPCSIM_NS_LB2" BACKUP
check "all 20 sessions survived both failovers (opened, none reset, ended by the stop file, no pause > 5 s)" \
  sessions_result "$SESS" 5

await 20 in_sync_ns "$VPCSIM_NS_LB2"
await 20 endpoints_up "$VPCSIM_NS_LB2"
check "lb2 is back as a ready BACKUP" is_state "$VPCSIM_NS_LB2" BACKUP

# ---- split brain: the LBs cannot hear each other (both alive, both reach EC2 and the internet) ----
ms_now() { date +%s%3N; }
replace_routes_since() { # replace_routes_since WALL_MS: ReplaceRoutes vpcsim logged from either LB
  { ec2_calls "$VPCSIM_IP_LB1" "$1"; ec2_calls "$VPCSIM_IP_LB2" "$1"; } | grep -c ' ReplaceRoute ' || true
}
PART_NFT=flbroutedpart
partition() {
  ip netns exec "$VPCSIM_NS_VPC" nft -f - <<NFT
table inet $PART_NFT {
  chain cut { type filter hook forward priority -10; policy accept;
    ip saddr $VPCSIM_IP_LB1 ip daddr $VPCSIM_IP_LB2 drop
    ip saddr $VPCSIM_IP_LB2 ip daddr $VPCSIM_IP_LB1 drop
  }
}
NFT
}
on_exit "ip netns exec \"$VPCSIM_NS_VPC\" nft delete table inet $PART_NFT 2>/dev/null"
log "split brain: partition between lb1 and lb2"
T_PART=$(ms_now)
partition
took_over() { is_state "$VPCSIM_NS_LB2" MASTER && routes_at "$VPCSIM_ENI_LB2"; }
await 15 took_over
check "partition: lb2 (cut off from the master) is MASTER and holds the routes" took_over
old_stepped_down() { ! is_state "$VPCSIM_NS_LB1" MASTER; }
await 10 old_stepped_down   # one verify period (3 s) reads the routes pointing at the peer
check "partition: the old master, still alive, stepped down within a verify period ($(state_of "$VPCSIM_NS_LB1"))" old_stepped_down
check "partition: the routes stayed on lb2 (the old master never re-asserted)" routes_on "$VPCSIM_ENI_LB2"
check "partition: the EIP answers" reach
PART_RR=$(replace_routes_since "$T_PART")
log "heal"
T_HEAL=$(ms_now)
ip netns exec "$VPCSIM_NS_VPC" nft delete table inet $PART_NFT
master_ns() { # the namespace of the only MASTER, or "none"/"both"
  if is_state "$VPCSIM_NS_LB1" MASTER; then is_state "$VPCSIM_NS_LB2" MASTER && echo both || echo "$VPCSIM_NS_LB1"
  elif is_state "$VPCSIM_NS_LB2" MASTER; then echo "$VPCSIM_NS_LB2"; else echo none; fi
}
one_master_with_routes() {
  case "$(master_ns)" in
    "$VPCSIM_NS_LB1") routes_at "$VPCSIM_ENI_LB1" ;;
    "$VPCSIM_NS_LB2") routes_at "$VPCSIM_ENI_LB2" ;;
    *) return 1 ;;
  esac
}
await 15 one_master_with_routes
check "heal: exactly one MASTER ($(master_ns)), the routes on it" one_master_with_routes
case "$(master_ns)" in "$VPCSIM_NS_LB1") HEALED_ENI=$VPCSIM_ENI_LB1 ;; *) HEALED_ENI=$VPCSIM_ENI_LB2 ;; esac
check "heal: awscli agrees ($(gw_target) $(main_target))" routes_on "$HEALED_ENI"
# No flip-flop: for two more verify periods the MASTER and the routes stay put.
M_HEALED=$(master_ns)
stable=0
for _ in $(seq 1 14); do  # 7 s, bounded
  [ "$(master_ns)" = "$M_HEALED" ] && one_master_with_routes && stable=$((stable + 1))
  sleep 0.5
done
check "heal: MASTER and routes unchanged for 7 s after the heal ($stable/14 samples)" test "$stable" = 14
HEAL_RR=$(replace_routes_since "$T_HEAL")
check "split brain: $PART_RR ReplaceRoutes during the partition (the takeover), $HEAL_RR after the heal (<= 2, vpcsim's log)" \
  test "$HEAL_RR" -le 2
check "the EIP answers after the heal" reach

# ---- a forgotten source/dest check ----
case "$M_HEALED" in "$VPCSIM_NS_LB1") M_ENI=$VPCSIM_ENI_LB1 P_IP=$VPCSIM_IP_LB2 ;; *) M_ENI=$VPCSIM_ENI_LB2 P_IP=$VPCSIM_IP_LB1 ;; esac
log "source/dest check back on for the master's ENI $M_ENI"
aws_ modify-network-interface-attribute --network-interface-id "$M_ENI" --source-dest-check >/dev/null
flb_check "$M_HEALED" "$P_IP" >"$WORK/check-sdc.txt" 2>&1 && SDC_RC=0 || SDC_RC=$?
sed 's/^/  /' "$WORK/check-sdc.txt" | grep -v '^  dryrun' || true
check "flb-ec2 check exits 1 and names the source/dest check on $M_ENI" \
  sh -c "[ $SDC_RC = 1 ] && grep -q 'lacks my primary ENI $M_ENI: source/dest check is on' '$WORK/check-sdc.txt'"
unreachable() { ! reach; }
await 10 unreachable
check "with the source/dest check on, the EIP no longer answers (vpcsim drops traffic the ENI does not own)" unreachable
aws_ modify-network-interface-attribute --network-interface-id "$M_ENI" --no-source-dest-check >/dev/null
await 10 reach
check "check off again: the EIP answers" reach
