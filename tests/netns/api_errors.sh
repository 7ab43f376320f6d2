#!/usr/bin/env bash
# Every bad request gets a 4xx with {code,message,result}, the rule table is unchanged, traffic
# keeps flowing, and the daemon survives.
source "$(dirname "$0")/lib.sh"
netns_init apierr
topo_single
start_floatlb lb lb
API=http://127.0.0.1:11111/netlox/v1

ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1 --name=keep
table_before=$(in_ns lb curl -s $API/config/loadbalancer/all)

# req METHOD PATH [BODY] -> prints "STATUS BODY"
req() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
      --data-binary "$body" "$API$path"
  else
    in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X "$method" "$API$path"
  fi
}
expect_4xx() { # expect_4xx WANT_CODE DESCRIPTION METHOD PATH [BODY]
  local want=$1 what=$2; shift 2
  local code; code=$(req "$@")
  local body; body=$(cat "$WORK/resp")
  log "  $what -> $code $body"
  if [ "$code" != "$want" ]; then fail "$what: HTTP $code, want $want"; return; fi
  if ! echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["code"]>=400 and d["message"] and d["result"]'; then
    fail "$what: error body is not {code,message,result}"; return
  fi
  pass "$what: HTTP $want with a message"
}

svc() { echo "{\"serviceArguments\":{\"externalIP\":\"$VIP\",\"port\":80,\"protocol\":\"tcp\"$1},\"endpoints\":[$2]}"; }
EP1="{\"endpointIP\":\"${B_IPS[0]}\",\"targetPort\":80,\"weight\":1}"
EP2="{\"endpointIP\":\"${B_IPS[1]}\",\"targetPort\":80,\"weight\":1}"
many=""; for i in $(seq 1 33); do many+="${many:+,}{\"endpointIP\":\"10.9.0.$i\",\"targetPort\":80,\"weight\":1}"; done

expect_4xx 400 "malformed JSON" POST /config/loadbalancer '{"serviceArguments":{'
expect_4xx 400 "not an object" POST /config/loadbalancer '[1,2]'
expect_4xx 400 "unknown mode 9" POST /config/loadbalancer "$(svc ',"mode":9' "$EP1")"
expect_4xx 400 "unsupported mode dsr" POST /config/loadbalancer "$(svc ',"mode":3' "$EP1")"
expect_4xx 400 "unknown sel 8" POST /config/loadbalancer "$(svc ',"sel":8' "$EP1")"
expect_4xx 400 "unknown protocol" POST /config/loadbalancer "{\"serviceArguments\":{\"externalIP\":\"$VIP\",\"port\":80,\"protocol\":\"gre\"},\"endpoints\":[$EP1]}"
expect_4xx 400 "bad VIP" POST /config/loadbalancer "{\"serviceArguments\":{\"externalIP\":\"198.18.0.300\",\"port\":80},\"endpoints\":[$EP1]}"
expect_4xx 400 "bad endpoint IP" POST /config/loadbalancer "$(svc '' '{"endpointIP":"10.1.1","targetPort":80,"weight":1}')"
expect_4xx 400 "port out of range" POST /config/loadbalancer "{\"serviceArguments\":{\"externalIP\":\"$VIP\",\"port\":65536},\"endpoints\":[$EP1]}"
expect_4xx 400 "port as string" POST /config/loadbalancer "{\"serviceArguments\":{\"externalIP\":\"$VIP\",\"port\":\"80\"},\"endpoints\":[$EP1]}"
expect_4xx 400 "33 endpoints" POST /config/loadbalancer "$(svc '' "$many")"
expect_4xx 400 "no endpoints" POST /config/loadbalancer "$(svc '' '')"
expect_4xx 409 "identical re-create" POST /config/loadbalancer "$(svc ',"name":"keep"' "$EP1,$EP2")"
expect_4xx 404 "delete a rule that does not exist" DELETE /config/loadbalancer/externalipaddress/$VIP/port/9999/protocol/tcp
expect_4xx 400 "delete with a bad address" DELETE /config/loadbalancer/externalipaddress/not-an-ip/port/80/protocol/tcp
expect_4xx 404 "delete by unknown name" DELETE /config/loadbalancer/name/nope
expect_4xx 404 "detach from a missing rule" POST /config/loadbalancer "{\"serviceArguments\":{\"externalIP\":\"$VIP\",\"port\":7777,\"oper\":2},\"endpoints\":[$EP1]}"
expect_4xx 400 "bad cistate" POST /config/cistate '{"instance":"llb-inst0","state":"LEADER"}'
expect_4xx 404 "unknown path" GET /config/nosuchthing

table_after=$(in_ns lb curl -s $API/config/loadbalancer/all)
check "rule table unchanged after all the bad requests" test "$table_before" = "$table_after"
check "the existing rule still forwards" sh -c "ip netns exec $(ns client) curl -s --max-time 2 http://$VIP/ | grep -q '^b[12]$'"
check "the daemon is still running" kill -0 "$PID_floatlb_lb"

ctl_err=$(ctl delete lb $VIP --tcp=9999 2>&1 >/dev/null; echo "rc=$?")
log "floatctl on a missing rule: $ctl_err"
check "floatctl prints a readable error and exits non-zero" sh -c "echo '$ctl_err' | grep -q 'rc=[1-9]' && echo '$ctl_err' | grep -qi 'not found'"
