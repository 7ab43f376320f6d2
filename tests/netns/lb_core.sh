#!/usr/bin/env bash
# Core single-node behaviour with real traffic: client -> VIP -> 3 nginx backends.
# rr spread, hash/persist stickiness, DNAT/fullnat/one-arm source addresses, rule deletion.
source "$(dirname "$0")/lib.sh"
netns_init core
topo_single
start_floatlb lb lb

# backend_of OUTPUT -> b1|b2|b3 (nginx answers its name on /)
count_backends() { sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' '; }

log "rr: 300 new connections spread within ±10 % per backend"
ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --name=web-rr
ctl get lb
# one curl process, 300 transfers, each on its own connection (Connection: close)
urls=(); for _ in $(seq 300); do urls+=("http://$VIP/"); done
out=$(in_ns client curl -s --max-time 30 -H 'Connection: close' "${urls[@]}")
dist=$(echo "$out" | count_backends)
log "rr distribution: $dist"
rr_ok() {
  local total=0
  for b in b1 b2 b3; do
    local n; n=$(echo "$out" | grep -c "^$b$" || true)
    total=$((total + n))
    [ "$n" -ge 90 ] && [ "$n" -le 110 ] || return 1
  done
  [ $total -eq 300 ]
}
check "rr spreads 300 requests within ±10 % per backend ($dist)" rr_ok
check "DNAT: backend sees the client address" test "$(http_get $VIP/whoami)" = "$CLIENT_IP"

log "hash: the same 5-tuple always lands on the same backend; different tuples spread (UDP, fixed source ports)"
for b in b1 b2 b3; do
  ip netns exec "$(ns $b)" $PY "$FLOATLB_SRC/tests/netns/udp_tool.py" serve 5353 $b >"$WORK/udp-$b.log" 2>&1 &
  _PIDS+=($!)
done
for b in b1 b2 b3; do wait_until 5 in_ns $b sh -c 'ss -lun | grep -q :5353'; done
ctl create lb $VIP --udp=81:5353 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --select=hash
udp_from() { in_ns client $PY "$FLOATLB_SRC/tests/netns/udp_tool.py" ask $VIP $1 $2; }
hash_round() { for p in $(seq 41001 41012); do udp_from 81 $p; done; }
first=$(hash_round | tr '\n' ' ')
ctl delete lb $VIP --udp=81 >/dev/null   # drop conntrack state, then recreate
ctl create lb $VIP --udp=81:5353 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --select=hash
second=$(hash_round | tr '\n' ' ')
log "hash round 1: $first"
log "hash round 2: $second"
check "hash: every request answered" sh -c "! echo '$first $second' | grep -q no-reply"
check "hash: same 5-tuples map to the same backends after the rule is recreated" test "$first" = "$second"
check "hash: 12 different source ports use more than one backend" \
  test "$(echo $first | tr ' ' '\n' | sort -u | wc -l)" -ge 2

log "persist: one client stays on one backend across new connections"
ctl create lb $VIP --tcp=82:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --select=persist
purls=(); for _ in $(seq 30); do purls+=("http://$VIP:82/"); done
pout=$(in_ns client curl -s --max-time 10 -H 'Connection: close' "${purls[@]}")
check "persist: 30 connections from one client all reach one backend ($(echo "$pout" | count_backends))" \
  test "$(echo "$pout" | sort -u | wc -l)" -eq 1 -a "$(echo "$pout" | wc -l)" -eq 30

log "fullnat and one-arm: what source address the backends see"
ctl create lb $VIP --tcp=83:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1 --mode=fullnat
ctl create lb $VIP --tcp=84:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1 --mode=onearm
check "fullnat: backend sees the VIP as source" test "$(http_get $VIP:83/whoami)" = "$VIP"
check "one-arm: backend sees the LB's interface address" test "$(http_get $VIP:84/whoami)" = "$LB_BACK_IP"
ctl get lb -o wide
ctl get ct

log "UDP service (DNAT) answers through the LB"
ctl create lb $VIP --udp=53:5353 --endpoints=${B_IPS[0]}:1
check "udp: reply from the backend via the VIP" test "$(udp_from 53 42000)" = "b1"

log "deleting the rule stops forwarding"
ctl delete lb $VIP --tcp=83
check "deleted rule: the VIP port no longer answers" sh -c "! ip netns exec $(ns client) curl -s --max-time 2 http://$VIP:83/ >/dev/null"
check "other rules still answer" test "$(http_get $VIP:84/whoami)" = "$LB_BACK_IP"
