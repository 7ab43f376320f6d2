#!/usr/bin/env bash
# The seed end to end with kubectl (issue 11 item 4): vpcsim's seed topology, the two floatlb
# instances in two AZs (heartbeat HA), kubesim joined to that VPC (Nodes = node1/node2, pods =
# namespaces with VPC IPs), the operator applied with `kubectl apply -f deploy/k8s/kube-floatlb.yaml`
# (its args edited with sed on a copy, as a user edits the seed's kube-loxilb.yaml; it runs in-cluster
# as two pods), then the seed's nginx.yaml verbatim. kubectl shows `llb-<EIP>`, the internet client
# gets nginx's welcome page through the EIP, keep-alive sessions survive the MASTER's links going
# down, `kubectl get svc` does not change, and `kubectl delete` removes the rule from both instances.
# FLB_DEMO=1 (scripts/demo.sh) prints the tables, awscli's view and the takeover timeline on the way.
source "$(dirname "$0")/../netns/lib.sh"
source "$(dirname "$0")/seed_lib.sh"
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
KUBECTL_OLD=/opt/floatlb/kubectl-1.20/kubectl  # checked too when present
NGINX_YAML=$FLOATLB_SRC/tests/kubesim/fixtures/nginx.yaml  # the seed's manifest, verbatim
netns_init skube
need python3 aws "$KUBECTL" nginx
show() { [ -z "${FLB_DEMO:-}" ] || { printf '\n\033[1m== %s\033[0m\n' "$1"; shift; "$@"; }; }

log "vpcsim (seed topology, default latency model), two floatlb instances, no rule yet"
seed_up
start_pair
await 10 is_state "$VPCSIM_NS_LB1" MASTER
roles_elected() { is_state "$VPCSIM_NS_LB1" MASTER && is_state "$VPCSIM_NS_LB2" BACKUP; }
check "lb1 (AZ-a) is MASTER, lb2 (AZ-b) BACKUP" roles_elected

log "kubesim joins the VPC (nodes node1/node2)"
KS=$WORK/kubesim
KS_PFX="${FLB_PFX}k"
"$BIN/kubesim" up --vpcsim-state-dir "$WORK/vpcsim-$SEED_PFX" --prefix "$KS_PFX" --state-dir "$KS" --daemon \
  >"$WORK/kubesim-up.log" 2>&1 || { cat "$WORK/kubesim-up.log" "$KS/kubesim.log"; fail "kubesim up"; exit 1; }
# before vpcsim's own down (registered by seed_up): kubesim releases the pods' IPs through vpcsim
_ON_EXIT=("\"$BIN/kubesim\" down --prefix \"$KS_PFX\" --state-dir \"$KS\" >/dev/null 2>&1" "${_ON_EXIT[@]}")
mkdir -p "$KS/home"
kc() { HOME=$KS/home "$KUBECTL" --kubeconfig "$KS/kubeconfig" "$@"; }
kc_old() { HOME=$KS/home "$KUBECTL_OLD" --kubeconfig "$KS/kubeconfig" "$@"; }

log "kubectl apply -f deploy/k8s/kube-floatlb.yaml (args edited for this VPC: instances, EIP, private VIP)"
OPERATOR_YAML=$WORK/kube-floatlb.yaml
sed -e "s#- --loxiURL=.*#- --loxiURL=http://$VPCSIM_IP_LB2:11111,http://$VPCSIM_IP_LB1:11111#" \
  -e "s#- --externalCIDR=.*#- --externalCIDR=$EIP/32#" -e "s#- --privateCIDR=.*#- --privateCIDR=$SEED_PVIP/32#" \
  "$FLOATLB_SRC/deploy/k8s/kube-floatlb.yaml" >"$OPERATOR_YAML"
diff "$FLOATLB_SRC/deploy/k8s/kube-floatlb.yaml" "$OPERATOR_YAML" || true
kc apply -f "$OPERATOR_YAML"
operator_up() {
  [ "$(kc -n kube-system get pods -l app=kube-floatlb-app --no-headers 2>/dev/null | grep -c ' Running ')" = 2 ] &&
    [ -n "$(kc -n kube-system get lease kube-floatlb -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" ]
}
await 30 operator_up
check "kube-floatlb: 2 pods Running in-cluster, the Lease is held" operator_up
show "kubectl -n kube-system get pods -o wide" kc -n kube-system get pods -o wide

log "kubectl apply -f nginx.yaml (the seed's manifest, verbatim)"
kc apply -f "$NGINX_YAML"
SVC_RE="^nginx-lb1 +LoadBalancer +10\.100\.[0-9]+\.[0-9]+ +llb-${EIP//./\\.} +55002:3[0-9]{4}/TCP "
svc_row() { kc get svc --no-headers | grep '^nginx-lb1 '; }
svc_ready() { svc_row | grep -Eq "$SVC_RE"; }
await 30 svc_ready
SVC_BEFORE=$(svc_row | awk '{print $1, $2, $3, $4, $5}')
check "kubectl get svc: $SVC_BEFORE (EXTERNAL-IP is llb-$EIP)" svc_ready
if [ -x "$KUBECTL_OLD" ]; then
  old_ready() { kc_old get svc --no-headers | grep -Eq "$SVC_RE"; }
  check "kubectl 1.20 get svc shows the same row" old_ready
fi
kc get svc
kc get pods -o wide
NODEPORT=$(kc get svc nginx-lb1 -o jsonpath='{.spec.ports[0].nodePort}')
POD_HOST=$(kc get pod nginx-test -o jsonpath='{.status.hostIP}')
rule_on() { # the operator's rule: EIP:55002 -> (externalTrafficPolicy Local) only the pod's node, its NodePort
  nsx "$1" "$BIN/floatctl" get lb -o json | json_ok '[(r["serviceArguments"]["externalIP"], r["serviceArguments"]["port"],
    [(e["endpointIP"], e["targetPort"]) for e in r["endpoints"]]) for r in d["lbAttr"]] == [(a[0], int(a[1]), [(a[2], int(a[3]))])]' \
    - "$EIP" "$SEED_PORT" "$POD_HOST" "$NODEPORT"
}
await 10 rule_on "$VPCSIM_NS_LB2"
for n in "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"; do
  check "floatctl get lb on $n: $EIP:$SEED_PORT -> the pod's node $POD_HOST:$NODEPORT" rule_on "$n"
done
show "floatctl get lb -o wide (lb1)" nsx "$VPCSIM_NS_LB1" "$BIN/floatctl" get lb -o wide
show "floatctl get ha (lb1)" nsx "$VPCSIM_NS_LB1" "$BIN/floatctl" get ha

welcome() { nsx "$VPCSIM_NS_INET" curl -s -m 3 "http://$EIP:$SEED_PORT/" | grep -q '<title>Welcome to nginx!</title>'; }
await 60 welcome
check "curl http://$EIP:$SEED_PORT/ from the internet returns nginx's welcome page" welcome
# awscli starts slowly on a loaded machine: ask it once per check, and print what it said
owner_is() { OWNER=$(eip_owner) && [[ "$OWNER" == "$1 $SEED_PVIP "* ]]; }
await 30 owner_is "$VPCSIM_INSTANCE_LB1"
check "awscli: the EIP is associated with lb1's ENI and the private VIP" owner_is "$VPCSIM_INSTANCE_LB1"
log "  $EIP -> $OWNER"
show "what awscli sees" show_aws

SESS="$WORK/sessions.json"
hold_sessions 10 "$SESS" 900 --http
check "10 keep-alive HTTP sessions open through the EIP" test -f "$SESS.ready"
await 5 replicas_on "$VPCSIM_NS_LB2" 20
check "the backup in AZ-b holds the sessions' conntrack replicas" replicas_on "$VPCSIM_NS_LB2" 20

log "the MASTER (lb1, AZ-a) loses its links"
T0=$(date +%s%3N)
instance_links "$VPCSIM_NS_LB1" down
await 5 is_state "$VPCSIM_NS_LB2" MASTER
check "lb2 (AZ-b) is MASTER" is_state "$VPCSIM_NS_LB2" MASTER
await 90 welcome
T1=$(date +%s%3N)
check "nginx answers through the EIP from AZ-b $((T1 - T0)) ms after the failure" welcome
check "awscli: the EIP moved to lb2's ENI" owner_is "$VPCSIM_INSTANCE_LB2"
log "  $EIP -> $OWNER"
svc_same() { [ "$(svc_row | awk '{print $1, $2, $3, $4, $5}')" = "$SVC_BEFORE" ]; }
check "kubectl get svc unchanged after the failover" svc_same
kc get svc
show "floatctl get ha (lb2)" nsx "$VPCSIM_NS_LB2" "$BIN/floatctl" get ha
show "what awscli sees" show_aws
timeline_lb2() { timeline_of "$VPCSIM_NS_LB2" | $PY "$FLOATLB_SRC/scripts/timeline.py"; }
show "takeover timeline of lb2 (GET /netlox/v1/config/cloud/timeline)" timeline_lb2
check "all 10 sessions survived the failover (none reset, no pause > 30 s)" sessions_result "$SESS" 30

log "lb1 comes back as BACKUP; kubectl delete -f nginx.yaml"
instance_links "$VPCSIM_NS_LB1" up
await 10 is_state "$VPCSIM_NS_LB1" BACKUP
check "returning lb1 is BACKUP" is_state "$VPCSIM_NS_LB1" BACKUP
kc delete -f "$NGINX_YAML" --timeout=30s
no_rule() { nsx "$1" "$BIN/floatctl" get lb -o json | json_ok 'd["lbAttr"] == []' -; }
for n in "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"; do
  await 20 no_rule "$n"
  check "floatctl get lb on $n: no rule left" no_rule "$n"
done
svc_gone() { ! kc get svc nginx-lb1 >/dev/null 2>&1; }
check "the Service is gone (its finalizer was removed)" svc_gone
