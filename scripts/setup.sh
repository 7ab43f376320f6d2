#!/usr/bin/env bash
# Installs every Debian package floatlb needs to build, test, run the demo and the benchmarks.
# Idempotent: re-running it on a machine that already has everything does nothing but check.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build pkg-config g++ clang llvm clang-format clang-tidy ccache
  libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev libyaml-dev
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev libfmt-dev
  libcli11-dev libpugixml-dev libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # tests, demo, benchmarks
  iproute2 iputils-ping iptables nftables ethtool tcpdump curl netcat-openbsd socat
  nginx-light wrk iperf3 haproxy keepalived conntrackd conntrack procps python3 python3-yaml
  python3-kubernetes  # the python Kubernetes client, a reference client for kubesim (/usr/bin/python3)
  prometheus          # promtool: checks /metrics exposition
  systemd dpkg-dev libcap2-bin  # packaging tests: systemd-analyze verify, cpack DEB (dpkg-shlibdeps), capsh
  awscli  # /usr/bin/aws v2: second reference client for the vpcsim fidelity test
)

# kubectl 1.20 (Debian's kubernetes-client) as a second kubectl for kubesim's fidelity tests. It
# conflicts with the image's /usr/bin/kubectl (1.27-1.33 dispatcher), so it is unpacked privately.
KUBECTL_120_DIR=/opt/floatlb/kubectl-1.20

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
need_kubectl120=0
[ -x "$KUBECTL_120_DIR/kubectl" ] || need_kubectl120=1

if [ ${#missing[@]} -eq 0 ] && [ $need_kubectl120 -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: need root to install packages (run with sudo): ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ $need_kubectl120 -eq 1 ]; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1); then
    dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$tmp/x"
    mkdir -p "$KUBECTL_120_DIR"
    install -m 0755 "$tmp/x/usr/bin/kubectl" "$KUBECTL_120_DIR/kubectl"
    echo "setup: kubectl $("$KUBECTL_120_DIR/kubectl" version --client --short 2>/dev/null || true) in $KUBECTL_120_DIR"
  else
    echo "setup: kubernetes-client not downloadable; kubectl 1.20 checks will be skipped" >&2
  fi
  rm -rf "$tmp"
fi
echo "setup: done"
