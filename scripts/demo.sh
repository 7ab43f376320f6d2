#!/usr/bin/env bash
# The floatlb demo: a client, floatlb and three nginx backends in network namespaces. Creates a
# fullnat service with floatctl, sends traffic, and prints what floatctl shows. Needs root; does
# all set-up itself (packages, build). Everything it creates is removed when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "demo: run as root (sudo scripts/demo.sh)" >&2; exit 1; fi
bash scripts/build.sh >/tmp/floatlb-demo-build.log 2>&1 || { tail -n 30 /tmp/floatlb-demo-build.log; exit 1; }
export FLOATLB_BUILD=$PWD/build FLOATLB_SRC=$PWD
source tests/netns/lib.sh
netns_init demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Topology: client 198.18.1.10 -> floatlb (198.18.1.1 | 192.168.218.1) -> nginx b1 b2 b3 (192.168.218.11-13)"
topo_single
start_floatlb lb lb
say "floatctl create lb $VIP --tcp=80:80 --endpoints=... --mode=fullnat --select=rr --name=demo-web"
ctl create lb $VIP --tcp=80:80 --endpoints=${B_IPS[0]}:1,${B_IPS[1]}:1,${B_IPS[2]}:1 --mode=fullnat --select=rr --name=demo-web
say "30 requests from the client to http://$VIP/ (one connection each)"
urls=(); for _ in $(seq 30); do urls+=("http://$VIP/"); done
in_ns client curl -s --max-time 20 -H 'Connection: close' "${urls[@]}" | sort | uniq -c
say "What a backend sees as the client address in fullnat mode: $(http_get $VIP/whoami)"
say "A long-lived download keeps a connection open while we look at conntrack"
in_ns client curl -s --max-time 4 -o /dev/null "http://$VIP/big" || true &
_PIDS+=($!)
wait_until 3 sh -c "ip netns exec $(ns lb) $BIN/floatctl get ct | grep -q est"
say "floatctl get lb -o wide"
ctl get lb -o wide
say "floatctl get ct"
ctl get ct
say "floatctl get ha"
ctl get ha
say "Metrics (GET /netlox/v1/metrics), datapath verdicts"
in_ns lb curl -s http://127.0.0.1:11111/netlox/v1/metrics | grep datapath_packets_total | grep -v ' 0$' || true
echo
echo "demo finished; everything it created is being removed"
