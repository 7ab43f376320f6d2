#!/usr/bin/env bash
# The floatlb demo. Needs root; does all set-up itself (packages, build). Everything it creates is
# removed when it exits.
#
#   sudo scripts/demo.sh            the seed end to end with kubectl (default): vpcsim's seed VPC, two
#                                   floatlb instances in two AZs, kubesim's cluster on the same VPC,
#                                   `kubectl apply` of the operator and of the seed's nginx.yaml,
#                                   `kubectl get svc` (llb-<EIP>), nginx through the EIP, the master's
#                                   links go down with sessions held, `kubectl delete`; prints kubectl's
#                                   output, floatctl's tables, awscli's view and the takeover timeline
#   sudo scripts/demo.sh --seed     the seed scenario without Kubernetes (rules posted directly): the
#                                   subnet/ENI/VIP/EIP move to the other AZ and back
#   sudo scripts/demo.sh --single   one floatlb, three nginx backends: floatctl tables and conntrack
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "demo: run as root (sudo scripts/demo.sh)" >&2; exit 1; fi
case "${1:-}" in
  "" | --kubectl) MODE=kubectl ;;
  --seed) MODE=seed ;;
  --single) MODE=single ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "demo: unknown argument '$1' (use --seed, --single or nothing)" >&2; exit 2 ;;
esac
if [ -n "${FLOATLB_BUILD:-}" ]; then  # a given build (the suite's tests/netns/demo_single.sh): use it as it is
  [ -x "$FLOATLB_BUILD/bin/floatlb" ] || { echo "demo: no floatlb in FLOATLB_BUILD=$FLOATLB_BUILD" >&2; exit 1; }
else
  echo "building (log: /tmp/floatlb-demo-build.log) ..."
  bash scripts/build.sh >/tmp/floatlb-demo-build.log 2>&1 || { tail -n 30 /tmp/floatlb-demo-build.log; exit 1; }
  FLOATLB_BUILD=$PWD/build
fi
export FLOATLB_BUILD FLOATLB_SRC=$PWD
if [ "$MODE" = kubectl ]; then
  FLB_DEMO=1 exec bash tests/e2e/seed_kubectl.sh
fi
if [ "$MODE" = seed ]; then
  FLB_DEMO=1 exec bash tests/e2e/seed_scenario.sh
fi
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
