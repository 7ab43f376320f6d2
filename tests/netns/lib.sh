# Shared helpers for netns tests (bash). Source it, then call `netns_init <name>`.
# Safety (docs/TESTBED rules): everything lives in namespaces named "$FLB_PFX-*" created here;
# nothing is added to the root namespace; cleanup runs on every exit path (trap) and kills only the
# PIDs this test started.
set -euo pipefail

FLOATLB_BUILD=${FLOATLB_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
FLOATLB_SRC=${FLOATLB_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=$FLOATLB_BUILD/bin
# The stdlib-only test tools run on Debian's python: pyenv's `python3` shim costs seconds of start-up
# on a loaded machine, which timing-sensitive tests cannot afford.
PY=/usr/bin/python3
SESSIONS_PY=$FLOATLB_SRC/tests/netns/sessions.py
PASSED=0
FAILED=0
_PIDS=()
_NSES=()
_ON_EXIT=()   # extra cleanup commands (strings run with eval), after the PIDs are gone
on_exit() { _ON_EXIT+=("$1"); }

skip() { echo "SKIP: $*"; exit 77; }
log() { echo "[$(date +%H:%M:%S.%3N)] $*"; }
pass() { PASSED=$((PASSED + 1)); log "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL: $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# need TOOL...: as root a missing tool fails the test (the suite must not pass by skipping it);
# only a non-root run may skip.
need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null && continue
    [ "$(id -u)" -eq 0 ] && { echo "FAIL: $t missing (run scripts/setup.sh)"; exit 1; }
    skip "$t missing"
  done
}

# sweep_stale NAME: what an earlier run of this test left behind when it was killed (ctest's timeout
# sends SIGKILL, so no trap ran): namespaces "flb<pid>-NAME*" and work dirs "/tmp/flb<pid>-NAME*"
# whose <pid> is no longer alive. Processes inside those namespaces are killed first, kubesim and
# vpcsim worlds are taken down through their state dirs, bpffs mounts are unmounted; the dirs (logs) stay
# for a post-mortem, as after any failed run. A live run (its pid exists) is never touched.
sweep_stale() {
  local n pid d st exp
  # owner NAME-OR-PATH: the pid in "flb<pid>-..." if NAME belongs to a dead run of this test
  _stale_pid() {
    local base=$1 p
    [[ "$base" =~ ^flb([0-9]+) ]] || return 1
    p=${BASH_REMATCH[1]}
    exp="flb$p${2:+-$2}"
    [[ "$base" == "${exp:0:12}"* ]] || return 1
    kill -0 "$p" 2>/dev/null && return 1
    echo "$p"
  }
  local stale_ns=() stale_dirs=()
  for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    _stale_pid "$n" "$1" >/dev/null && stale_ns+=("$n")
  done
  for d in /tmp/flb*; do
    [ -d "$d" ] && _stale_pid "${d#/tmp/}" "$1" >/dev/null && stale_dirs+=("$d")
  done
  for n in "${stale_ns[@]}"; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  for d in "${stale_dirs[@]}"; do  # kubesim first: it releases its pods' IPs through vpcsim
    for st in "$d"/*/kubesim.pid; do  # its down stops the daemon only if the pid still runs kubesim
      [ -f "$st" ] && "$BIN/kubesim" down --state-dir "${st%/kubesim.pid}" >/dev/null 2>&1
    done
    for st in "$d"/vpcsim-*; do
      [ -d "$st" ] && "$BIN/vpcsim" down --prefix "${st##*/vpcsim-}" --state-dir "$st" >/dev/null 2>&1
    done
  done
  for n in "${stale_ns[@]}"; do ip netns del "$n" 2>/dev/null && echo "swept stale namespace $n"; done
  for d in "${stale_dirs[@]}"; do  # logs stay, as after any failed run; the bpffs mount goes
    if mountpoint -q "$d/bpffs"; then umount "$d/bpffs" && echo "swept the bpffs of stale work dir $d"; fi
  done
  return 0
}

netns_init() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, eBPF)"
  need ip "$PY"
  sweep_stale "${1:-}"
  FLB_PFX="flb$$${1:+-$1}"
  FLB_PFX=${FLB_PFX:0:12}
  WORK=$(mktemp -d "/tmp/$FLB_PFX.XXXX")
  chmod 755 "$WORK"  # nginx workers (user nobody) read files below it
  trap netns_cleanup EXIT
  # One bpffs for this test, mounted outside /sys: `ip netns exec` remounts /sys in a private
  # mount namespace, but this mount stays visible there, so pinned maps survive daemon restarts.
  mkdir -p "$WORK/bpffs"
  mount -t bpf bpf "$WORK/bpffs"
  trap 'exit 130' INT TERM
}

netns_cleanup() {
  local rc=$?
  set +e
  for pid in "${_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for ns in "${_NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for cmd in "${_ON_EXIT[@]}"; do eval "$cmd" 2>/dev/null; done
  umount "$WORK/bpffs" 2>/dev/null
  if [ -n "${FLB_KEEP_WORK:-}" ] || [ $rc -ne 0 ] || [ $FAILED -ne 0 ]; then
    echo "logs kept in $WORK"
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "---- $f (tail)"; tail -n 30 "$f"; }; done
  else
    rm -rf "$WORK"
  fi
  echo "$PASSED passed, $FAILED failed"
  if [ $rc -eq 0 ] && [ $FAILED -ne 0 ]; then exit 1; fi
  exit $rc
}

ns() { echo "$FLB_PFX-$1"; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

mkns() {
  local n; n=$(ns "$1")
  ip netns add "$n"
  _NSES+=("$n")
  ip -n "$n" link set lo up
  ip netns exec "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# mkbridge SWITCH_NS BRIDGE
mkbridge() { ip -n "$(ns "$1")" link add "$2" type bridge; ip -n "$(ns "$1")" link set "$2" up; }

# plug SWITCH_NS BRIDGE HOST_NS IFNAME ADDR/LEN [MAC]: a veth from a bridge to a host namespace.
plug() {
  local sw=$1 br=$2 host=$3 ifn=$4 addr=$5 mac=${6:-}
  local peer="v${host:0:6}${ifn}"
  peer=${peer:0:15}
  ip -n "$(ns "$sw")" link add "$peer" type veth peer name "$ifn" netns "$(ns "$host")"
  ip -n "$(ns "$sw")" link set "$peer" master "$br" up
  [ -n "$mac" ] && ip -n "$(ns "$host")" link set "$ifn" address "$mac"
  ip -n "$(ns "$host")" addr add "$addr" dev "$ifn"
  ip -n "$(ns "$host")" link set "$ifn" up
}

# bg NAME LOGFILE command...: start a background process, remember its PID for cleanup.
bg() {
  local name=$1 logf=$2; shift 2
  "$@" >"$logf" 2>&1 &
  local pid=$!
  _PIDS+=("$pid")
  eval "PID_$name=$pid"
}

# wait_until SECONDS command...: poll a condition every 50 ms until it holds or the deadline passes.
wait_until() {
  local deadline=$(( $(date +%s%N) + ${1%.*} * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# start_nginx NS NAME: nginx on :80 answering "NAME" on /, the client address on /whoami and a
# 20 MB file at /big (rate-limited per request so a download lasts a few seconds).
start_nginx() {
  local n=$1 name=$2 dir="$WORK/nginx-$2"
  mkdir -p "$dir/logs" "$dir/html"
  head -c 20000000 /dev/zero > "$dir/html/big"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  keepalive_requests 100000;
  server {
    listen 80 reuseport;
    location = / { return 200 "$name\n"; }
    location = /whoami { return 200 "\$remote_addr\n"; }
    location = /big { root $dir/html; limit_rate 4m; }
  }
}
CONF
  bg "nginx_$name" "$WORK/nginx-$name.log" ip netns exec "$(ns "$n")" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/logs/error.log"
  wait_until 5 in_ns "$n" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || { fail "nginx $name did not start"; return 1; }
}

# start_floatlb NS NAME [flags...]: the daemon with a private config dir and bpffs pin dir.
start_floatlb() {
  local n=$1 name=$2; shift 2
  mkdir -p "$WORK/$name-config"
  bg "floatlb_$name" "$WORK/floatlb-$name.log" ip netns exec "$(ns "$n")" \
    "$BIN/floatlb" --config-path="$WORK/$name-config" --bpf-pin-dir="$WORK/bpffs/$name" "$@"
  wait_until 10 in_ns "$n" curl -sf -m 1 http://127.0.0.1:11111/netlox/v1 || { fail "floatlb $name did not come up"; return 1; }
}

floatctl_in() { local n=$1; shift; in_ns "$n" "$BIN/floatctl" "$@"; }
ctl() { floatctl_in lb "$@"; }  # floatctl against the daemon in namespace "lb"

# topo_single: client -- [front bridge] -- lb -- [back bridge] -- b1 b2 b3 (nginx on :80).
#   client 198.18.1.10/24 (default via lb 198.18.1.1), lb eth0 198.18.1.1/24 eth1 192.168.218.1/24,
#   backends 192.168.218.11-13/24 (default via lb). VIPs are taken from 198.18.0.0/24: routed to
#   the LB by the client's default route and never configured as an address anywhere.
VIP=198.18.0.100
CLIENT_IP=198.18.1.10
LB_BACK_IP=192.168.218.1
B_IPS=(192.168.218.11 192.168.218.12 192.168.218.13)
topo_single() {
  mkns sw; mkns client; mkns lb; mkns b1; mkns b2; mkns b3
  mkbridge sw brf; mkbridge sw brb
  plug sw brf client eth0 $CLIENT_IP/24
  plug sw brf lb eth0 198.18.1.1/24
  plug sw brb lb eth1 $LB_BACK_IP/24
  local i=0
  for b in b1 b2 b3; do
    plug sw brb $b eth0 ${B_IPS[$i]}/24
    ip -n "$(ns $b)" route add default via $LB_BACK_IP
    i=$((i + 1))
  done
  ip -n "$(ns client)" route add default via 198.18.1.1
  in_ns lb sysctl -qw net.ipv4.ip_forward=1
  for b in b1 b2 b3; do start_nginx $b $b; done
}

# http_get PATH [curl args...]: one request from the client to the VIP on a fresh connection.
http_get() { local url=$1; shift; in_ns client curl -s --max-time 3 -H 'Connection: close' "$@" "http://$url"; }

# topo_ha: one L2 front segment (client, lb1, lb2; VIP 198.18.1.100 answered by the MASTER's ARP)
# and one back segment (lb1, lb2, b1..b3 running a TCP echo server on :7000 and nginx on :80).
# Heartbeats and connection sync run over the back segment.
HA_VIP=198.18.1.100
LB1_BACK=192.168.218.2
LB2_BACK=192.168.218.3
topo_ha() {
  mkns sw; mkns client; mkns lb1; mkns lb2; mkns b1; mkns b2; mkns b3
  mkbridge sw brf; mkbridge sw brb
  plug sw brf client eth0 198.18.1.10/24
  plug sw brf lb1 eth0 198.18.1.2/24
  plug sw brf lb2 eth0 198.18.1.3/24
  plug sw brb lb1 eth1 $LB1_BACK/24
  plug sw brb lb2 eth1 $LB2_BACK/24
  local i=0
  for b in b1 b2 b3; do
    plug sw brb $b eth0 ${B_IPS[$i]}/24
    # fullnat replies go to the VIP: on-link, so whoever is MASTER answers the ARP
    ip -n "$(ns $b)" route add $HA_VIP/32 dev eth0
    i=$((i + 1))
  done
  for n in lb1 lb2; do in_ns $n sysctl -qw net.ipv4.ip_forward=1; done
  for b in b1 b2 b3; do
    bg "echo_$b" "$WORK/echo-$b.log" ip netns exec "$(ns $b)" $PY "$SESSIONS_PY" serve --port 7000
  done
  for b in b1 b2 b3; do wait_until 5 in_ns $b bash -c "exec 3<>/dev/tcp/127.0.0.1/7000" || fail "echo server on $b"; done
}

# start_ha_pair [extra flags]: floatlb on lb1 (--self=0) and lb2 (--self=1) with heartbeats and sync.
start_ha_pair() {
  start_floatlb lb1 lb1 --cluster=$LB2_BACK --self=0 --ka=$LB2_BACK:$LB1_BACK "$@"
  start_floatlb lb2 lb2 --cluster=$LB1_BACK --self=1 --ka=$LB1_BACK:$LB2_BACK "$@"
}

# json EXPR [FILE|-] [ARG...] / json_ok EXPR [FILE|-] [ARG...]: the one JSON reader of the shell
# tests (tests/support/jq.py; EXPR is a Python expression over d = the document, a = the ARGs).
json() { $PY "$FLOATLB_SRC/tests/support/jq.py" "$@"; }
json_ok() { $PY "$FLOATLB_SRC/tests/support/jq.py" -t "$@"; }

# HA role helpers, one set for every shell test. Namespaces by full name (netns tests: "$(ns lb1)",
# e2e: "$VPCSIM_NS_LB1"); the short-name forms below are for topologies built with mkns.
#   state_of NS [INSTANCE]   MASTER/BACKUP/... of INSTANCE (default llb-inst0), DOWN if no answer
#   masters [NS...]          how many of these namespaces (default: the e2e seed pair) are MASTER
#   in_sync_ns NS            NS's daemon reports its HA peer in sync
state_of() {
  ip netns exec "$1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/config/cistate/all |
    json '[x["state"] for x in d["Attr"] if x["instance"]==a[0]][0]' - "${2:-llb-inst0}" 2>/dev/null || echo DOWN
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }
masters() { # masters [NS...]: without NS, the seed pair ($VPCSIM_NS_LB1 $VPCSIM_NS_LB2, tests/e2e)
  local n c=0
  [ $# -gt 0 ] || set -- "$VPCSIM_NS_LB1" "$VPCSIM_NS_LB2"
  for n in "$@"; do is_state "$n" MASTER && c=$((c + 1)); done
  echo $c
}
in_sync_ns() { ip netns exec "$1" curl -s -m 1 http://127.0.0.1:11111/netlox/v1/config/ha/peers | grep -q '"inSync":true'; }
ha_state() { state_of "$(ns "$1")"; }
state_is() { is_state "$(ns "$1")" "$2"; }
in_sync() { in_sync_ns "$(ns "$1")"; }
masters_are() { [ "$(masters "$(ns lb1)" "$(ns lb2)")" = "$1" ]; }
# link_down/link_up NAME: both links of NAME at once (one `ip -batch`, so both go at the same moment)
link_down() { printf 'link set eth0 down\nlink set eth1 down\n' | ip -n "$(ns "$1")" -batch -; }
link_up() { printf 'link set eth0 up\nlink set eth1 up\n' | ip -n "$(ns "$1")" -batch -; }

# await SECONDS command...: like wait_until, but never fails the script (set -e); the condition
# is asserted afterwards with `check`.
await() { wait_until "$@" || true; }
est_count_at_least() { [ "$(in_ns "$1" "$BIN/floatctl" get ct | grep -c est)" -ge "$2" ]; }
can_connect() { in_ns client bash -c "exec 3<>/dev/tcp/$1/$2"; }
