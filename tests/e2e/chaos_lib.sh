#!/usr/bin/env bash
# Chaos on the seed topology (sourced by tests/e2e/chaos_*.sh and bench/soak, after
# tests/netns/lib.sh and tests/e2e/seed_lib.sh): timing a fault into the middle of a takeover
# from the survivor's live timeline, and faults of the EC2 endpoint itself, made with nftables in
# vpcsim's VPC namespace (created by this test run's vpcsim; nothing outside it is touched).

# takeover_calls NS: "Action:ok/failed xN ..." of NS's current timeline (for the log)
takeover_calls() {
  timeline_of "$1" | python3 -c '
import json,sys
t=json.load(sys.stdin)
print("detected %s, restored %sms: %s" % (t.get("detectedWallMs"), t.get("restoredMs"), " ".join(
    "%s:%s%s" % (c["action"], "ok" if c["ok"] else "FAILED", " x%d" % c["attempts"] if c.get("attempts",1)>1 else "")
    for c in t["calls"])))' 2>/dev/null || echo "no timeline"
}
# vpcsim logs every EC2 call when it arrives ("EC2 <Action> from <source ip> -> ..."), and applies
# its effect then, so its log is the exact clock for "in the middle of the takeover" (the
# takeover timeline records calls when their step ends, too late to time a fault from).
# sim_mark: the log's current length; sim_called MARK IP ACTION: ACTION arrived from IP since MARK.
sim_log() { echo "$WORK/vpcsim-$SEED_PFX.log"; }
sim_mark() { wc -l <"$(sim_log)"; }
sim_called() { tail -n +$(( $1 + 1 )) "$(sim_log)" | grep -q "EC2 $3 from $2 "; }
# sim_calls MARK IP: the actions that arrived from IP since MARK, in order (for the log)
sim_calls() { tail -n +$(( $1 + 1 )) "$(sim_log)" | awk -v ip="$2" '$4 == "EC2" && $6 == "from" && $7 == ip { printf "%s ", $5 }'; }

# widen_takeover_window: CreateNetworkInterface and AttachNetworkInterface take 3 s each (instead
# of 1.8 / 0.5): between the detach and the associate there are then > 6 s, so a fault timed from
# the polled timeline lands inside that window whatever the machine's load does to the polling.
# narrow_takeover_window: vpcsim's default latency model again.
widen_takeover_window() { sim_admin latency '{"per_action":{"CreateNetworkInterface":3000,"AttachNetworkInterface":3000}}'; }
narrow_takeover_window() { sim_admin latency '{"mode":"default"}'; }

# kill9_lb NAME: SIGKILL the instance's floatlb (no cleanup of any kind runs) and wait until gone.
kill9_lb() {
  local v="PID_floatlb_$1"
  kill -9 "${!v}"
  wait_until 10 sh -c "! kill -0 ${!v} 2>/dev/null"
}

# The EC2/IMDS endpoint instances use is 169.254.169.254:80 inside the VPC namespace.
CHAOS_NFT=flbchaos
ec2_rules() { ip netns exec "$VPCSIM_NS_VPC" nft -f - ; }
# ec2_blackhole: every packet to and from the endpoint dropped (a partition: calls time out).
ec2_blackhole() {
  ec2_rules <<NFT
table inet $CHAOS_NFT {
  chain in { type filter hook input priority -10; ip daddr 169.254.169.254 tcp dport 80 counter drop; }
  chain out { type filter hook output priority -10; ip saddr 169.254.169.254 tcp sport 80 counter drop; }
}
NFT
}
# ec2_refuse: the endpoint's process is gone: its open connections are reset (answers still in
# flight are lost), new connections refused (RST), nothing else it sends gets out. What clients
# see while the API restarts.
ec2_refuse() {
  ip netns exec "$VPCSIM_NS_VPC" ss -K -tn src 169.254.169.254 sport = :80 >/dev/null
  ec2_rules <<NFT
table inet $CHAOS_NFT {
  chain in { type filter hook input priority -10; ip daddr 169.254.169.254 tcp dport 80 counter reject with tcp reset; }
  chain out { type filter hook output priority -10; ip saddr 169.254.169.254 tcp sport 80 tcp flags != rst counter drop; }
}
NFT
}
ec2_restore() { ip netns exec "$VPCSIM_NS_VPC" nft delete table inet $CHAOS_NFT 2>/dev/null || true; }
ec2_reachable() { nsx "$VPCSIM_NS_LB1" curl -s -m 1 -o /dev/null http://169.254.169.254/ 2>/dev/null ||
  nsx "$VPCSIM_NS_LB2" curl -s -m 1 -o /dev/null http://169.254.169.254/; }
# ec2_calls_dropped: packets the chaos rules dropped or rejected so far (proof the fault was hit)
ec2_fault_hits() {
  ip netns exec "$VPCSIM_NS_VPC" nft -a list table inet $CHAOS_NFT 2>/dev/null |
    awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

# pair_converged: exactly one MASTER, the EIP on the MASTER's instance and the private VIP, new
# connections through the EIP, exactly one tagged ENI and one tagged subnet (nothing leaked).
master_ns() { local n; for n in "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"; do is_state "$n" MASTER && echo "$n"; done; }
master_instance() {
  case "$(master_ns)" in
    "$VPCSIM_NS_LB1") echo "$VPCSIM_INSTANCE_LB1" ;;
    "$VPCSIM_NS_LB2") echo "$VPCSIM_INSTANCE_LB2" ;;
    *) echo none ;;
  esac
}
# sim_view: "TAGGED_ENIS TAGGED_SUBNETS EIP_INSTANCE EIP_PRIVATE_IP" from vpcsim's own state (one
# admin call: the simulator's truth, fast enough to poll; the final checks ask awscli).
sim_view() {
  curl -sf -m 5 "$VPCSIM_EC2_ENDPOINT/admin/state" | python3 -c '
import json,sys
s=json.load(sys.stdin)
tag=lambda o,v: (o.get("tags") or {}).get("loxiType")==v
enis={e["id"]:e for e in s.get("network_interfaces") or []}
a=[x for x in s.get("addresses") or [] if x["public_ip"]==sys.argv[1]][0]
att=(enis.get(a["eni"]) or {}).get("attachment") or {}
print(sum(tag(e,"loxilb-eni") for e in enis.values()), sum(tag(n,"loxilb-subnet") for n in s.get("subnets") or []),
      att.get("instance") or "-", a["private_ip"] or "-")' "$EIP"
}
pair_converged() {
  [ "$(masters "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2")" = 1 ] && [ "$(sim_view)" = "1 1 $(master_instance) $SEED_PVIP" ] && reach
}
# check_converged LABEL SECONDS: wait for convergence, then assert each part separately (from
# vpcsim's state: the tagged ENI/subnet counts and where the EIP points).
check_converged() {
  local label=$1 m view
  await "$2" pair_converged
  m=$(master_instance)
  view=$(sim_view)
  local who=none
  [ "$m" = "$VPCSIM_INSTANCE_LB1" ] && who=lb1
  [ "$m" = "$VPCSIM_INSTANCE_LB2" ] && who=lb2
  check "$label: exactly one MASTER ($who, $m)" test "$(masters "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2")" = 1
  check "$label: the EIP is on the MASTER's ENI and the private VIP ($view)" test "${view#* * }" = "$m $SEED_PVIP"
  check "$label: new connections through the EIP succeed" reach
  check "$label: exactly one tagged ENI and one tagged subnet (nothing leaked: $view)" test "${view% * *}" = "1 1"
}
# check_took_over LABEL NS INSTANCE SECONDS: while the old master is still cut off (and so still
# MASTER on its side of the partition), the survivor NS is MASTER, the EIP is on INSTANCE's ENI and
# the private VIP, new connections work and nothing leaked.
check_took_over() {
  local label=$1 n=$2 inst=$3 view
  took_over() { is_state "$n" MASTER && [ "$(sim_view)" = "1 1 $inst $SEED_PVIP" ] && reach; }
  await "$4" took_over
  view=$(sim_view)
  check "$label: the survivor is MASTER" is_state "$n" MASTER
  check "$label: the EIP is on the survivor's ENI and the private VIP ($view)" test "${view#* * }" = "$inst $SEED_PVIP"
  check "$label: new connections through the EIP succeed" reach
  check "$label: exactly one tagged ENI and one tagged subnet (nothing leaked: $view)" test "${view% * *}" = "1 1"
}
# chaos_start NAME: seed_start + the world checked up + 20 held sessions replicated to lb2.
chaos_start() {
  seed_start "$1"
  up() { is_state "$VPCSIM_NS_LB1" MASTER && [ "$(sim_view)" = "1 1 $VPCSIM_INSTANCE_LB1 $SEED_PVIP" ] && reach; }
  await 60 up
  check "seed world up: lb1 MASTER, EIP on lb1, EIP:$SEED_PORT reachable" up
  on_exit "ip netns exec \"$VPCSIM_NS_VPC\" nft delete table inet $CHAOS_NFT"
  SESS="$WORK/sessions.json"
  hold_sessions 20 "$SESS" "${CHAOS_SESSION_DURATION:-900}"
  check "20 long-lived sessions open" test -f "$SESS.ready"
  await 5 replicas_on "$VPCSIM_NS_LB2"
}
