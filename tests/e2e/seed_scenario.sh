#!/usr/bin/env bash
# The seed scenario end to end, in vpcsim's seed topology: one Elastic IP, two floatlb instances in
# two availability zones (heartbeats decide the roles), a fullnat service EIP:55002 -> the nodes.
# The internet client keeps long-lived sessions open; the master's links go down; the backup in the
# other AZ becomes MASTER and moves the VIP subnet, the ENI, the private VIP and the EIP into its
# AZ; sessions continue. Then the old master returns as BACKUP and we fail over back again.
source "$(dirname "$0")/../netns/lib.sh"
netns_init seed
command -v python3 >/dev/null || skip "python3 missing"
CIDR=192.168.248.0/24
PVIP=192.168.248.254
PORT=55002
NODEPORT=30080
PFX="${FLB_PFX}x"   # vpcsim's own prefix (its namespaces are <prefix>vpc, <prefix>lb1, ...)

log "starting vpcsim (seed topology, default latency model)"
"$BIN/vpcsim" up --topology "$FLOATLB_SRC/topologies/seed.json" --prefix "$PFX" --daemon \
  --state-dir "$WORK/vpcsim" >"$WORK/vpcsim-up.log" 2>&1 || { cat "$WORK/vpcsim-up.log"; fail "vpcsim up"; exit 1; }
on_exit "\"$BIN/vpcsim\" down --prefix \"$PFX\" >/dev/null 2>&1"
source "$WORK/vpcsim/vpcsim.env"
EIP=$VPCSIM_EIP_LB_EIP
aws_() { AWS_ACCESS_KEY_ID=$VPCSIM_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$VPCSIM_SECRET_KEY AWS_EC2_METADATA_DISABLED=true \
  aws --endpoint-url "$VPCSIM_EC2_ENDPOINT" --region "$VPCSIM_REGION" --output json ec2 "$@"; }
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for node in "$VPCSIM_NS_NODE1" "$VPCSIM_NS_NODE2"; do
  bg "echo_$RANDOM" "$WORK/echo-${node##*-}.log" ip netns exec "$node" python3 "$FLOATLB_SRC/tests/netns/sessions.py" serve --port $NODEPORT
done

start_lb() { # start_lb NAME NS SELF PEER_IP OWN_IP
  local name=$1 nsn=$2 self=$3 peer=$4 own=$5
  mkdir -p "$WORK/$name-config"
  bg "floatlb_$name" "$WORK/floatlb-$name.log" ip netns exec "$nsn" env AWS_REGION="$VPCSIM_REGION" \
    AWS_ENDPOINT_URL_EC2="$VPCSIM_VPC_ENDPOINT" AWS_EC2_METADATA_SERVICE_ENDPOINT="$VPCSIM_VPC_ENDPOINT" \
    "$BIN/floatlb" --cloud=aws --cloudcidrblock=$CIDR --cluster="$peer" --self=$self --ka="$peer:$own" \
    --config-path="$WORK/$name-config" --bpf-pin-dir="$WORK/bpffs/$name"
  await 15 nsx "$nsn" curl -sf -m 1 http://127.0.0.1:11111/netlox/v1
}
start_lb lb1 "$VPCSIM_NS_LB1" 0 "$VPCSIM_IP_LB2" "$VPCSIM_IP_LB1"
start_lb lb2 "$VPCSIM_NS_LB2" 1 "$VPCSIM_IP_LB1" "$VPCSIM_IP_LB2"
state_of() { nsx "$1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/config/cistate/all | python3 -c 'import json,sys; print(json.load(sys.stdin)["Attr"][0]["state"])' 2>/dev/null || echo DOWN; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }

# What kube-floatlb would program on both instances (reference kube-loxilb.md §7.2 shape).
RULE=$(cat <<JSON
{"serviceArguments":{"externalIP":"$EIP","privateIP":"$PVIP","port":$PORT,"protocol":"tcp","sel":0,"mode":2,
 "BGP":false,"Monitor":false,"inactiveTimeOut":240,"block":0,"managed":true,"name":"default_nginx-lb1:llb-inst0"},
 "secondaryIPs":[],"allowedSources":[],
 "endpoints":[{"endpointIP":"$VPCSIM_IP_NODE1","targetPort":$NODEPORT,"weight":1},
              {"endpointIP":"$VPCSIM_IP_NODE2","targetPort":$NODEPORT,"weight":1}]}
JSON
)
for n in "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"; do
  nsx "$n" curl -sf -X POST -d "$RULE" http://127.0.0.1:11111/netlox/v1/config/loadbalancer >/dev/null || fail "rule on $n"
done

await 10 is_state "$VPCSIM_NS_LB1" MASTER
check "lb1 (AZ-a) is MASTER, lb2 (AZ-b) BACKUP" sh -c "[ \"$(state_of $VPCSIM_NS_LB1)\" = MASTER ] && [ \"$(state_of $VPCSIM_NS_LB2)\" = BACKUP ]"
reach() { nsx "$VPCSIM_NS_INET" timeout 2 bash -c "exec 3<>/dev/tcp/$EIP/$PORT"; }
await 60 reach
check "internet client reaches EIP:$PORT through lb1" reach

eip_owner() { # prints the instance id whose ENI holds the EIP
  aws_ describe-addresses --public-ips "$EIP" | python3 -c '
import json,sys
a=json.load(sys.stdin)["Addresses"][0]
print(a.get("InstanceId","-"), a.get("PrivateIpAddress","-"), a.get("NetworkInterfaceId","-"))'
}
tagged() { aws_ describe-"$1" --filters "Name=tag:loxiType,Values=$2" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['$3']))"; }
log "EIP owner: $(eip_owner)"
eip_on() { eip_owner | grep -q "^$1 $PVIP "; }
await 30 eip_on "$VPCSIM_INSTANCE_LB1"
check "EIP is associated with lb1's ENI and the private VIP" eip_on "$VPCSIM_INSTANCE_LB1"

SESS="$WORK/sessions.json"
bg sessions "$WORK/sessions.log" ip netns exec "$VPCSIM_NS_INET" python3 "$FLOATLB_SRC/tests/netns/sessions.py" hold \
  --target "$EIP:$PORT" --count 20 --interval 0.1 --duration 600 --timeout 60 --out "$SESS" --stop-file "$WORK/stop"
await 15 test -f "$SESS.ready"
check "20 long-lived sessions open through the EIP" test -f "$SESS.ready"
await 5 sh -c "[ \$(ip netns exec $VPCSIM_NS_LB2 $BIN/floatctl get ct | grep -c est) -ge 40 ]"
check "the backup in AZ-b holds the 40 conntrack replicas" sh -c "[ \$(ip netns exec $VPCSIM_NS_LB2 $BIN/floatctl get ct | grep -c est) -ge 40 ]"

# instance_links NS down|up: the instance loses / regains every link. The kernel drops the routes
# through a link that goes down; on the way back we restore the main table's routes as the
# instance's DHCP client would (the ENI's own table is floatlb's business).
instance_links() {
  local n=$1 dir=$2 i
  [ "$dir" = down ] && ip -n "$n" route show table main proto boot >"$WORK/routes-$n"
  for i in $(ip -n "$n" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
    ip -n "$n" link set "$i" "$dir"
  done
  if [ "$dir" = up ]; then
    while read -r r; do [ -n "$r" ] && eval ip -n "$n" route replace $r; done <"$WORK/routes-$n"
  fi
}
failover() { # failover FROM_NS TO_NS TO_INSTANCE LABEL
  local from=$1 to=$2 inst=$3 label=$4
  log "$label: taking $from's links down"
  local t0; t0=$(date +%s%3N)
  instance_links "$from" down
  await 5 is_state "$to" MASTER
  check "$label: the survivor is MASTER" is_state "$to" MASTER
  await 90 eip_on "$inst"
  local t1; t1=$(date +%s%3N)
  check "$label: EIP moved to the survivor's ENI ($(( t1 - t0 )) ms after the failure; $(eip_owner))" eip_on "$inst"
  await 30 reach
  check "$label: new connections through the EIP succeed" reach
  check "$label: exactly one floatlb ENI left" test "$(tagged network-interfaces loxilb-eni NetworkInterfaces)" = 1
  check "$label: exactly one floatlb subnet left" test "$(tagged subnets loxilb-subnet Subnets)" = 1
  log "$label timeline (survivor):"
  nsx "$to" curl -s http://127.0.0.1:11111/netlox/v1/config/cloud/timeline 2>/dev/null | head -c 2000; echo
}
failover "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2" "$VPCSIM_INSTANCE_LB2" "failover to AZ-b"
nsx "$VPCSIM_NS_LB2" "$BIN/floatctl" get ha

log "lb1 comes back: BACKUP, then fail over back to AZ-a"
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
in_sync_ns() { nsx "$1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/config/ha/peers | grep -q '"inSync":true'; }
await 20 in_sync_ns "$VPCSIM_NS_LB1"
check "lb1 received the connection state from lb2" in_sync_ns "$VPCSIM_NS_LB1"
failover "$VPCSIM_NS_LB2" "$VPCSIM_NS_LB1" "$VPCSIM_INSTANCE_LB1" "failover back to AZ-a"

touch "$WORK/stop"
await 90 test -f "$SESS"
log "sessions: $(cat "$SESS" 2>/dev/null)"
check "all 20 sessions survived both failovers" \
  python3 -c "import json; d=json.load(open('$SESS')); exit(0 if d['failed']==0 and d['sessions']==20 else 1)"
