#!/usr/bin/env bash
# Endpoint health: a stopped backend leaves selection within its probe interval, requests keep
# succeeding, and it comes back when healthy again.
source "$(dirname "$0")/lib.sh"
netns_init health
topo_single
start_floatlb lb lb
API=http://127.0.0.1:11111/netlox/v1

body=$(cat <<JSON
{"serviceArguments":{"externalIP":"$VIP","port":80,"protocol":"tcp","monitor":true,"probetype":"tcp","probeport":80,
 "probeTimeout":1,"probeRetries":1,"name":"probed"},
 "endpoints":[{"endpointIP":"${B_IPS[0]}","targetPort":80,"weight":1},{"endpointIP":"${B_IPS[1]}","targetPort":80,"weight":1},
              {"endpointIP":"${B_IPS[2]}","targetPort":80,"weight":1}]}
JSON
)
check "rule with a 1 s tcp probe created" sh -c "ip netns exec $(ns lb) curl -sf -X POST -d '$body' $API/config/loadbalancer >/dev/null"
ep_state() { in_ns lb curl -s $API/config/loadbalancer/all |
  json '[e["state"] for r in d["lbAttr"] for e in r["endpoints"] if e["endpointIP"]==a[0]]' - "$1"; }
all_active() { local b; for b in "${B_IPS[@]}"; do [ "$(ep_state "$b")" = active ] || return 1; done; }
await 5 all_active
ctl get ep
check "all three endpoints probed ok (b1=$(ep_state ${B_IPS[0]}) b2=$(ep_state ${B_IPS[1]}) b3=$(ep_state ${B_IPS[2]}))" all_active

log "stopping nginx on b3"
stopped_at=$(date +%s%3N)
kill "$PID_nginx_b3"
is_inactive() { [ "$(ep_state ${B_IPS[2]})" = inactive ]; }
await 5 is_inactive
took=$(( $(date +%s%3N) - stopped_at ))
check "b3 marked inactive within its probe interval + retries (${took} ms)" sh -c "[ \"$(ep_state ${B_IPS[2]})\" = inactive ] && [ $took -le 3000 ]"
urls=(); for _ in $(seq 30); do urls+=("http://$VIP/"); done
out=$(in_ns client curl -s --max-time 10 -H 'Connection: close' "${urls[@]}" || true)
check "30 requests all succeed while b3 is down" test "$(echo "$out" | grep -c '^b[12]$')" -eq 30
check "none of them went to b3" test "$(echo "$out" | grep -c '^b3$')" -eq 0
ctl get lb -o wide

log "starting nginx on b3 again"
start_nginx b3 b3
is_active() { [ "$(ep_state ${B_IPS[2]})" = active ]; }
await 5 is_active
check "b3 is active again" is_active
out=$(in_ns client curl -s --max-time 10 -H 'Connection: close' "${urls[@]}" || true)
check "b3 receives traffic again" test "$(echo "$out" | grep -c '^b3$')" -ge 5
