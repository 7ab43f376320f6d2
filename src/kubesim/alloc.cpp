#include "kubesim/alloc.h"

#include <arpa/inet.h>

#include <algorithm>

namespace floatlb::kubesim {

std::optional<uint32_t> parseIpv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string formatIpv4(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string PortAllocator::allocate(int port) {
  if (port < lo_ || port > hi_)
    return "provided port is not in the valid range. The range of valid ports is " + range();
  if (used_.count(port)) return "provided port is already allocated";
  used_.insert(port);
  return "";
}

std::optional<int> PortAllocator::allocateNext(std::mt19937_64& rng) {
  int size = hi_ - lo_ + 1;
  int reserved = std::min(std::max(16, size / 32), 128);
  auto tryBand = [&](int from, int to) -> std::optional<int> {
    if (to < from) return std::nullopt;
    int n = to - from + 1;
    int start = static_cast<int>(rng() % static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i) {
      int p = from + (start + i) % n;
      if (!used_.count(p)) {
        used_.insert(p);
        return p;
      }
    }
    return std::nullopt;
  };
  int lowEnd = std::min(hi_, lo_ + reserved - 1);  // the static band, clipped to tiny ranges
  if (auto p = tryBand(lowEnd + 1, hi_)) return p;
  return tryBand(lo_, lowEnd);
}

IpAllocator::IpAllocator(const std::string& cidr) : cidr_(cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return;
  auto ip = parseIpv4(cidr.substr(0, slash));
  int bits = std::atoi(cidr.substr(slash + 1).c_str());
  if (!ip || bits < 8 || bits > 30) return;
  size_ = 1u << (32 - bits);
  base_ = *ip & ~(size_ - 1);
}

std::string IpAllocator::nth(uint32_t offset) const { return formatIpv4(base_ + offset); }

std::string IpAllocator::allocate(const std::string& s) {
  auto ip = parseIpv4(s);
  if (!ip) return "must be a valid IP address";
  if (*ip <= base_ || *ip >= base_ + size_ - 1)
    return "failed to allocate IP " + s + ": the provided IP (" + s +
           ") is not in the valid range. The range of valid IPs is " + cidr_;
  if (used_.count(*ip)) return "failed to allocate IP " + s + ": provided IP is already allocated";
  used_.insert(*ip);
  return "";
}

std::optional<std::string> IpAllocator::allocateNext(std::mt19937_64& rng) {
  uint32_t usable = size_ - 2;
  uint32_t reserved = std::min(std::max(16u, size_ / 16), 256u);
  auto tryBand = [&](uint32_t from, uint32_t to) -> std::optional<std::string> {  // offsets, inclusive
    if (to < from) return std::nullopt;
    uint32_t n = to - from + 1;
    uint32_t start = static_cast<uint32_t>(rng() % n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t ip = base_ + from + (start + i) % n;
      if (!used_.count(ip)) {
        used_.insert(ip);
        return formatIpv4(ip);
      }
    }
    return std::nullopt;
  };
  if (auto r = tryBand(reserved + 1, usable)) return r;
  return tryBand(1, reserved);
}

void IpAllocator::release(const std::string& s) {
  if (auto ip = parseIpv4(s)) used_.erase(*ip);
}

}  // namespace floatlb::kubesim
