#!/usr/bin/env bash
# The seed scenario's building blocks (sourced by tests/e2e/*.sh, scripts/demo.sh, bench/aws-failover):
# vpcsim's seed topology (one EIP, lb1 in AZ-a, lb2 in AZ-b, node1/node2 with echo servers on :30080),
# two floatlb instances with --cloud=aws --cloudcidrblock, the fullnat service EIP:55002 on both,
# helpers to read roles, the EIP owner and the tagged ENIs/subnets, and a link-level failover.
# Needs tests/netns/lib.sh sourced and netns_init called first.
# Overridable before sourcing (tests/e2e/single_az.sh): the topology, the private VIP and the
# cloud flags of the floatlb instances.
SEED_TOPOLOGY=${SEED_TOPOLOGY:-seed.json}
SEED_CIDR=192.168.248.0/24
SEED_PVIP=${SEED_PVIP:-192.168.248.254}
SEED_CLOUD_FLAGS=${SEED_CLOUD_FLAGS---cloudcidrblock=$SEED_CIDR}  # empty: single-AZ mode
SEED_PORT=55002
SEED_NODEPORT=30080

# seed_up [vpcsim flags...]: vpcsim (seed topology, default latency model unless flags say
# otherwise) + echo servers on both nodes. Exports the VPCSIM_* variables.
# SEED_PFX (optional, set before): vpcsim's prefix, for several seed worlds one after another.
seed_up() {
  SEED_PFX="${SEED_PFX:-${FLB_PFX}x}"   # vpcsim's own prefix (namespaces <prefix>vpc, <prefix>lb1, ...)
  "$BIN/vpcsim" up --topology "$FLOATLB_SRC/topologies/$SEED_TOPOLOGY" --prefix "$SEED_PFX" --daemon \
    --state-dir "$WORK/vpcsim-$SEED_PFX" "$@" >"$WORK/vpcsim-up.log" 2>&1 ||
    { cat "$WORK/vpcsim-up.log"; fail "vpcsim up"; exit 1; }
  on_exit "\"$BIN/vpcsim\" down --prefix \"$SEED_PFX\" --state-dir \"$WORK/vpcsim-$SEED_PFX\" >/dev/null 2>&1"
  # shellcheck disable=SC1091
  source "$WORK/vpcsim-$SEED_PFX/vpcsim.env"
  VPCSIM_LOG="$WORK/vpcsim-$SEED_PFX.log"  # vpcsim's log: one line per EC2 request (tests/e2e/ec2_log.py)
  EIP=$VPCSIM_EIP_LB_EIP
  local n node
  for n in 1 2; do
    node="VPCSIM_NS_NODE$n"
    bg "echo_node$n" "$WORK/echo-$SEED_PFX-node$n.log" ip netns exec "${!node}" \
      $PY "$SESSIONS_PY" serve --port $SEED_NODEPORT
  done
}

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
aws_() {
  AWS_ACCESS_KEY_ID=$VPCSIM_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$VPCSIM_SECRET_KEY AWS_EC2_METADATA_DISABLED=true \
    aws --endpoint-url "$VPCSIM_EC2_ENDPOINT" --region "$VPCSIM_REGION" --output json ec2 "$@"
}
# vpcsim's admin API (faults, latency, detach time): sim_admin PATH JSON
sim_admin() { curl -sf -m 5 -X POST -d "$2" "$VPCSIM_EC2_ENDPOINT/admin/$1" >/dev/null; }

# start_lb NAME NS SELF PEER_IP OWN_IP: one floatlb instance as in the seed (peer heartbeats).
start_lb() {
  local name=$1 nsn=$2 self=$3 peer=$4 own=$5
  local tag="$SEED_PFX$name"   # config and pinned maps belong to this seed world
  mkdir -p "$WORK/$tag-config"
  bg "floatlb_$name" "$WORK/floatlb-$tag.log" ip netns exec "$nsn" env AWS_REGION="$VPCSIM_REGION" \
    AWS_ENDPOINT_URL_EC2="$VPCSIM_VPC_ENDPOINT" AWS_EC2_METADATA_SERVICE_ENDPOINT="$VPCSIM_VPC_ENDPOINT" \
    "$BIN/floatlb" --cloud=aws $SEED_CLOUD_FLAGS --cluster="$peer" --self="$self" --ka="$peer:$own" \
    --config-path="$WORK/$tag-config" --bpf-pin-dir="$WORK/bpffs/$tag" --detach-on-exit
  await 15 nsx "$nsn" curl -sf -m 1 http://127.0.0.1:11111/netlox/v1
}
start_pair() {
  start_lb lb1 "$VPCSIM_NS_LB1" 0 "$VPCSIM_IP_LB2" "$VPCSIM_IP_LB1"
  start_lb lb2 "$VPCSIM_NS_LB2" 1 "$VPCSIM_IP_LB1" "$VPCSIM_IP_LB2"
}
stop_lb() { local v="PID_floatlb_$1"; kill "${!v}" 2>/dev/null; }


# What kube-floatlb programs on both instances (reference kube-loxilb.md §7.2 shape).
seed_rule_json() {
  cat <<JSON
{"serviceArguments":{"externalIP":"$EIP","privateIP":"$SEED_PVIP","port":$SEED_PORT,"protocol":"tcp","sel":0,"mode":2,
 "BGP":false,"Monitor":false,"inactiveTimeOut":240,"block":0,"managed":true,"name":"default_nginx-lb1:llb-inst0"},
 "secondaryIPs":[],"allowedSources":[],
 "endpoints":[{"endpointIP":"$VPCSIM_IP_NODE1","targetPort":$SEED_NODEPORT,"weight":1},
              {"endpointIP":"$VPCSIM_IP_NODE2","targetPort":$SEED_NODEPORT,"weight":1}]}
JSON
}
program_rule() {
  local n rule
  rule=$(seed_rule_json)
  for n in "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"; do
    nsx "$n" curl -sf -X POST -d "$rule" http://127.0.0.1:11111/netlox/v1/config/loadbalancer >/dev/null ||
      fail "rule on $n"
  done
}

reach() { nsx "$VPCSIM_NS_INET" timeout 2 bash -c "exec 3<>/dev/tcp/$EIP/$SEED_PORT"; }
eip_owner() { # prints: instance-id private-ip eni-id of the EIP's association
  aws_ describe-addresses --public-ips "$EIP" |
    json '" ".join(d["Addresses"][0].get(k, "-") for k in ("InstanceId", "PrivateIpAddress", "NetworkInterfaceId"))'
}
eip_on() { eip_owner | grep -q "^$1 $SEED_PVIP "; }
tagged() { # tagged network-interfaces|subnets TAGVALUE JSONKEY -> count
  aws_ describe-"$1" --filters "Name=tag:loxiType,Values=$2" | json 'str(len(d[a[0]]))' - "$3"
}
tagged_enis() { tagged network-interfaces loxilb-eni NetworkInterfaces; }
tagged_eni_on() { # tagged_eni_on INSTANCE: the (only) tagged ENI is attached to INSTANCE
  aws_ describe-network-interfaces --filters Name=tag:loxiType,Values=loxilb-eni |
    json_ok 'len(d["NetworkInterfaces"])==1 and d["NetworkInterfaces"][0].get("Attachment",{}).get("InstanceId")==a[0]' - "$1"
}
tagged_subnets() { tagged subnets loxilb-subnet Subnets; }
# show_aws: the EIP's association and the tagged ENI/subnet, as awscli reports them (the demos print it)
show_aws() {
  echo "  aws ec2 describe-addresses: $EIP -> instance/private IP/ENI: $(eip_owner)"
  aws_ describe-network-interfaces --filters Name=tag:loxiType,Values=loxilb-eni |
    json '["  aws ec2 describe-network-interfaces (tag loxilb-eni): %s %s %s %s attached to %s" % (e["NetworkInterfaceId"],
      e["AvailabilityZone"], e["SubnetId"], ",".join(p["PrivateIpAddress"] for p in e["PrivateIpAddresses"]),
      e.get("Attachment", {}).get("InstanceId", "-")) for e in d["NetworkInterfaces"]]'
  aws_ describe-subnets --filters Name=tag:loxiType,Values=loxilb-subnet |
    json '["  aws ec2 describe-subnets (tag loxilb-subnet): %s %s %s" % (s["SubnetId"], s["CidrBlock"], s["AvailabilityZone"])
      for s in d["Subnets"]]'
}
# ec2_serial CLIENT_IP SINCE_WALL_MS [UNTIL_ACTION]: the serial EC2 calls vpcsim itself logged from
# CLIENT_IP since then, up to the first successful UNTIL_ACTION (tests/e2e/ec2_log.py); "none" if
# that call never succeeded. ec2_calls CLIENT_IP SINCE_WALL_MS: those requests, one per line.
ec2_serial() { local n; if n=$(/usr/bin/python3 "$FLOATLB_SRC/tests/e2e/ec2_log.py" serial "$VPCSIM_LOG" "$@"); then echo "$n"; else echo none; fi; }
ec2_calls() { /usr/bin/python3 "$FLOATLB_SRC/tests/e2e/ec2_log.py" list "$VPCSIM_LOG" "$@"; }
timeline_of() { nsx "$1" curl -s -m 2 http://127.0.0.1:11111/netlox/v1/config/cloud/timeline; }

# instance_links NS down|up: the instance loses / regains every link. The kernel drops the routes
# through a link that goes down; on the way back we restore the main table's routes as the
# instance's DHCP client would (the ENI's own table is floatlb's business).
instance_links() {
  local n=$1 dir=$2 i r
  [ "$dir" = down ] && ip -n "$n" route show table main proto boot >"$WORK/routes-$n"
  for i in $(ip -n "$n" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
    ip -n "$n" link set "$i" "$dir"
  done
  if [ "$dir" = up ]; then
    while read -r r; do [ -n "$r" ] && eval ip -n "$n" route replace "$r"; done <"$WORK/routes-$n"
  fi
  return 0
}

# hold_sessions N OUT: N long-lived echo sessions from the internet client to EIP:55002. Only the
# stop file (sessions_result) ends them: --duration is far beyond any test's ctest timeout, so a
# session that ends by it ended early and fails the check. Flags after DURATION go to sessions.py
# hold (--http: keep-alive GETs to nginx instead of echoes).
hold_sessions() {
  local count=$1 out=$2 duration=${3:-900}
  shift 2
  if [ $# -gt 0 ]; then shift; fi
  SEED_SESSIONS=$count
  bg "sessions_$RANDOM" "$out.log" ip netns exec "$VPCSIM_NS_INET" $PY "$SESSIONS_PY" hold \
    --target "$EIP:$SEED_PORT" --count "$count" --interval 0.1 --duration "$duration" --timeout 150 --out "$out" \
    --stop-file "$out.stop" "$@"
  await 15 test -f "$out.ready"
}
# sessions_result OUT [MAX_GAP_S]: stops the sessions and waits for their report; 0 when every one
# of the sessions hold_sessions asked for was opened, survived, was ended by the stop file and never
# paused longer than MAX_GAP_S (a cloud takeover plus TCP's retransmission back-off; default 150 s,
# the per-echo timeout, beyond which a session has failed anyway).
sessions_result() {
  local out=$1 max_gap_s=${2:-150}
  touch "$out.stop"
  await 90 test -f "$out"
  log "sessions: $(cat "$out" 2>/dev/null)"
  $PY "$SESSIONS_PY" verify --out "$out" --count "$SEED_SESSIONS" --max-gap-ms $((max_gap_s * 1000))
}

# seed_down: stops the floatlb instances and tears the seed world down (the next seed_up with
# another SEED_PFX starts a fresh one).
seed_down() {
  stop_lb lb1
  stop_lb lb2
  local v
  for v in PID_floatlb_lb1 PID_floatlb_lb2; do
    [ -n "${!v:-}" ] && wait_until 10 sh -c "! kill -0 ${!v} 2>/dev/null"
    unset "$v"
  done
  seed_world_down
}
# seed_world_down: what seed_up started: the echo servers (deleting their namespace does not end
# them) and vpcsim. Without floatlb (bench/aws-failover's keepalived variant) this is all of it.
seed_world_down() {
  local v
  for v in PID_echo_node1 PID_echo_node2; do
    if [ -n "${!v:-}" ]; then kill "${!v}" 2>/dev/null || true; fi
    unset "$v"
  done
  "$BIN/vpcsim" down --prefix "$SEED_PFX" --state-dir "$WORK/vpcsim-$SEED_PFX" >/dev/null 2>&1
  unset SEED_PFX
}

# seed_start NAME [vpcsim flags...]: the common opening of every seed test: prerequisites, the
# world, both instances, the rule on both, and lb1 (the lower --self) elected MASTER.
seed_start() {
  netns_init "$1"
  shift
  need python3 aws
  seed_up "$@"
  start_pair
  program_rule
  await 10 is_state "$VPCSIM_NS_LB1" MASTER
}
# replicas_on NS [N]: NS holds at least N (default 40) established conntrack entries.
replicas_on() { [ "$(nsx "$1" "$BIN/floatctl" get ct | grep -c est)" -ge "${2:-40}" ]; }
