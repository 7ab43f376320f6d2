#!/bin/bash
# Real TCP traffic through the tc datapath: client ns -> lb ns (flb-dp-loader) -> 2 backends
# behind a bridge, for DNAT, one-arm and fullnat. Checks rr alternation, the source address the
# backend sees, a 5 MB download byte-for-byte (GSO + checksum offload on veth), and the counters.
# Everything lives in namespaces named flbdp<pid>-*, removed on exit.
set -u
LOADER=${1:?usage: traffic_test.sh <flb-dp-loader>}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
# as root a missing tool is a failure (scripts/setup.sh installs them), never a silent skip
for t in ip python3 curl sha256sum; do command -v $t >/dev/null || { echo "FAIL: $t missing (run scripts/setup.sh)"; exit 1; }; done

P=flbdp$$-
NS="c lb net b1 b2"
TMP=$(mktemp -d /tmp/flbdp-XXXXXX)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for n in $NS; do ip netns del "$P$n" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

for n in $NS; do ip netns add "$P$n" && ip -n "$P$n" link set lo up || fail "netns $n"; done
ip -n ${P}net link add br0 type bridge && ip -n ${P}net link set br0 up
ip -n ${P}c link add eth0 type veth peer name eth0 netns ${P}lb
ip -n ${P}c addr add 198.18.0.5/24 dev eth0 && ip -n ${P}c link set eth0 up
ip -n ${P}lb addr add 198.18.0.1/24 dev eth0 && ip -n ${P}lb link set eth0 up
att() {  # ns ifname-in-net ifname addr
  ip -n ${P}net link add "$2" type veth peer name "$3" netns "$P$1"
  ip -n ${P}net link set "$2" master br0 up
  ip -n "$P$1" addr add "$4" dev "$3" && ip -n "$P$1" link set "$3" up
}
att lb vlb eth1 192.168.218.2/24
att b1 vb1 eth0 192.168.218.11/24
att b2 vb2 eth0 192.168.218.12/24
ip -n ${P}c route add 192.168.248.0/24 via 198.18.0.1
ip -n ${P}b1 route add default via 192.168.218.2
ip -n ${P}b2 route add default via 192.168.218.2
ip netns exec ${P}lb sysctl -qw net.ipv4.ip_forward=1

for b in b1 b2; do
  mkdir -p "$TMP/$b/www" && echo "hello from $b" > "$TMP/$b/www/index.html"
  head -c 5000000 /dev/urandom > "$TMP/$b/www/big"
  ip netns exec $P$b python3 -m http.server 8080 -d "$TMP/$b/www" 2>"$TMP/$b/log" >/dev/null &
  PIDS="$PIDS $!"
done
# wait (bounded) until both backends answer, directly from the lb namespace
for b in 11 12; do
  for i in $(seq 100); do
    ip netns exec ${P}lb curl -s -m 1 -o /dev/null http://192.168.218.$b:8080/ && break
    [ "$i" = 100 ] && fail "backend .$b did not start"
    sleep 0.1
  done
done

run_mode() {  # mode snat expected_source_seen_by_backend
  local mode=$1 snat=$2 seen=$3 out="$TMP/loader.$1"
  : > "$TMP/b1/log"; : > "$TMP/b2/log"
  coproc LOADER_PROC { ip netns exec ${P}lb "$LOADER" "$mode" "$snat" eth0 eth1 2>"$TMP/loader.err"; }
  local lpid=$LOADER_PROC_PID
  PIDS="$PIDS $lpid"
  local line=""
  read -r -t 20 line <&"${LOADER_PROC[0]}"
  [ "$line" = ready ] || fail "mode $mode: loader said '$line'"
  local got=""
  for i in 1 2 3 4; do got="$got$(ip netns exec ${P}c curl -s -m 5 http://192.168.248.10/)|"; done
  [ "$got" = "hello from b1|hello from b2|hello from b1|hello from b2|" ] || fail "mode $mode: rr got '$got'"
  local sum
  sum=$(ip netns exec ${P}c curl -s -m 20 http://192.168.248.10/big | sha256sum | cut -d' ' -f1)
  [ "$sum" = "$(sha256sum < "$TMP/b1/www/big" | cut -d' ' -f1)" ] || fail "mode $mode: 5 MB download corrupted"
  grep -q "^$seen " "$TMP/b1/log" || fail "mode $mode: backend did not see source $seen: $(head -2 "$TMP/b1/log")"
  exec {LOADER_PROC[1]}>&-
  timeout 10 cat <&"${LOADER_PROC[0]}" > "$out"
  wait "$lpid" || fail "mode $mode: loader exit status"
  grep -q "new_flow=5 " "$out" || fail "mode $mode: counters $(cat "$out")"
  grep -q "fib_redirect=[1-9]" "$out" || fail "mode $mode: no fib redirect: $(cat "$out")"
  echo "mode $mode ok: $(cat "$out")"
}
run_mode 0 0 198.18.0.5
run_mode 1 192.168.218.2 192.168.218.2
run_mode 2 192.168.248.10 192.168.248.10
echo PASS
