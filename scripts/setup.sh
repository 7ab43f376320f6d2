#!/usr/bin/env bash
# Installs every Debian package floatlb needs to build, test, run the demo and the benchmarks.
# Idempotent: re-running it on a machine that already has everything does nothing but check.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build pkg-config g++ clang llvm clang-format clang-tidy
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev libfmt-dev
  libcli11-dev libpugixml-dev libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # tests, demo, benchmarks
  iproute2 iputils-ping iptables nftables ethtool tcpdump curl netcat-openbsd socat
  nginx-light wrk iperf3 haproxy keepalived procps python3
  awscli  # /usr/bin/aws v2: second reference client for the vpcsim fidelity test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: need root to install packages (run with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
