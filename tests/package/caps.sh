#!/usr/bin/env bash
# The daemon works with exactly the capabilities deploy/floatlb.service gives it (root, but only the
# CapabilityBoundingSet of the unit, no new privileges): the datapath loads and forwards, the HA
# MASTER puts its VIP on lo and sends gratuitous ARP. And it does not work with one fewer: dropping
# each capability of the set in turn makes the daemon fail, so the set holds nothing unneeded.
source "$(dirname "$0")/../netns/lib.sh"
netns_init caps
command -v setpriv >/dev/null || { fail "setpriv (util-linux) missing"; exit 1; }
UNIT="$FLOATLB_SRC/deploy/floatlb.service"
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
AMBIENT=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT")
check "the unit's bounding and ambient sets agree ($CAPS)" test "$CAPS" = "$AMBIENT"
# "CAP_BPF CAP_NET_ADMIN" -> "+bpf,+net_admin" for setpriv
setpriv_set() { local c out="-all"; for c in "$@"; do c=${c#CAP_}; out+=",+${c,,}"; done; echo "$out"; }
# CapEff mask of a capability list, from capsh's own numbering (no table in this script)
cap_mask() { local c m=0 n; for c in "$@"; do n=$(capsh --explain="${c,,}" | sed -n '1s/^[a-z_]* (\([0-9]*\)).*/\1/p'); m=$((m | (1 << n))); done; printf '%016x' $m; }
# shellcheck disable=SC2086
read -r -a CAPLIST <<<"$CAPS"

topo_single
PEER=192.168.218.99   # nobody: the daemon elects itself MASTER
# run_limited NAME CAP...: floatlb in the lb namespace with only CAP... (HA on, so it claims VIPs)
run_limited() {
  local name=$1; shift
  mkdir -p "$WORK/$name-config"
  bg "floatlb_$name" "$WORK/floatlb-$name.log" ip netns exec "$(ns lb)" \
    setpriv --bounding-set="$(setpriv_set "$@")" --inh-caps=-all --no-new-privs \
    "$BIN/floatlb" --config-path="$WORK/$name-config" --bpf-pin-dir="$WORK/bpffs/$name" --detach-on-exit \
    --cluster=$PEER --self=0 --ka=$PEER:$LB_BACK_IP
}
api_up() { in_ns lb curl -sf -m 1 http://127.0.0.1:11111/netlox/v1 >/dev/null; }
stop_named() { # stop_named NAME: SIGTERM, wait until gone
  local v="PID_floatlb_$1"
  kill "${!v}" 2>/dev/null || true
  wait_until 10 sh -c "! kill -0 ${!v} 2>/dev/null"
}

log "floatlb with only: ${CAPLIST[*]}"
in_ns client timeout 20 tcpdump -n -i eth0 -c 1 "arp and host $VIP" >"$WORK/garp.txt" 2>"$WORK/tcpdump.err" &
TCPDUMP=$!
_PIDS+=($TCPDUMP)
wait_until 5 grep -q listening "$WORK/tcpdump.err"
run_limited full "${CAPLIST[@]}"
await 10 api_up
check "daemon up under the unit's capability set" api_up
eff=$(awk '/^CapEff/ { print $2 }' "/proc/$PID_floatlb_full/status")
check "its effective capabilities are exactly the set (CapEff $eff)" test "$eff" = "$(cap_mask "${CAPLIST[@]}")"
ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1 --mode=fullnat >/dev/null
answers() { http_get "$VIP/" | grep -q '^b[12]$'; }
await 10 answers
check "traffic through the VIP is load-balanced (tc program loaded and attached)" answers
vip_on_lo() { in_ns lb ip -o addr show dev lo | grep -q " $VIP/32"; }
await 10 vip_on_lo
check "HA MASTER holds the VIP on lo" vip_on_lo
await 15 sh -c "! kill -0 $TCPDUMP 2>/dev/null"
check "gratuitous ARP for the VIP seen by the client ($(head -c 120 "$WORK/garp.txt"))" grep -q "$VIP" "$WORK/garp.txt"
check "no permission errors in the log" sh -c "! grep -Eiq 'operation not permitted|permission denied' '$WORK/floatlb-full.log'"
stop_named full

# One fewer: each capability is needed by something the daemon does.
for drop in "${CAPLIST[@]}"; do
  rest=()
  for c in "${CAPLIST[@]}"; do [ "$c" = "$drop" ] || rest+=("$c"); done
  name="no${drop#CAP_}"; name=${name,,}
  run_limited "$name" "${rest[@]}"
  # broken: the daemon exits, or the rule/VIP/GARP it needs the capability for fails
  broken() {
    local v="PID_floatlb_$name" f="$WORK/floatlb-$name.log"
    ! kill -0 "${!v}" 2>/dev/null && return 0
    grep -Eiq 'operation not permitted|permission denied|announcing VIP|claiming VIP' "$f"
  }
  if api_up || wait_until 10 api_up; then
    ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1 --mode=fullnat >/dev/null 2>&1 || true
  fi
  await 12 broken
  check "without $drop the daemon fails ($(grep -Eim1 'not permitted|denied|announcing|claiming|error' "$WORK/floatlb-$name.log" | cut -c1-140))" broken
  stop_named "$name"
done
