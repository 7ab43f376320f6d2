// IPv4 value types used across floatlb. Ip4 stores the address in host byte order; helpers
// convert to/from the network-order __be32 used by the BPF ABI.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace floatlb {

class Ip4 {
 public:
  constexpr Ip4() = default;
  constexpr explicit Ip4(uint32_t host_order) : v_(host_order) {}
  static constexpr Ip4 fromOctets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ip4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d});
  }
  static Ip4 fromNetwork(uint32_t be);
  // Strict dotted-quad parser: exactly four decimal octets 0..255, no leading '+', no spaces.
  static Result<Ip4> parse(std::string_view text);

  [[nodiscard]] constexpr uint32_t hostOrder() const { return v_; }
  [[nodiscard]] uint32_t networkOrder() const;
  [[nodiscard]] constexpr bool isUnspecified() const { return v_ == 0; }
  [[nodiscard]] std::string str() const;

  constexpr auto operator<=>(const Ip4&) const = default;

 private:
  uint32_t v_ = 0;
};

class Cidr {
 public:
  constexpr Cidr() = default;
  Cidr(Ip4 addr, uint8_t prefix_len);
  // "a.b.c.d/n"; a bare address is accepted as /32. Host bits must be zero unless allow_host_bits.
  static Result<Cidr> parse(std::string_view text, bool allow_host_bits = false);

  [[nodiscard]] Ip4 network() const { return net_; }
  [[nodiscard]] uint8_t prefixLen() const { return len_; }
  [[nodiscard]] uint32_t mask() const;
  [[nodiscard]] bool contains(Ip4 ip) const;
  [[nodiscard]] bool overlaps(const Cidr& other) const;
  [[nodiscard]] uint64_t size() const { return uint64_t{1} << (32 - len_); }
  // The n-th address of the block (0 = network address).
  [[nodiscard]] Ip4 at(uint64_t n) const { return Ip4(net_.hostOrder() + static_cast<uint32_t>(n)); }
  [[nodiscard]] std::string str() const;

  auto operator<=>(const Cidr&) const = default;

 private:
  Ip4 net_;
  uint8_t len_ = 0;
};

enum class L4Proto : uint8_t { kTcp = 6, kUdp = 17, kIcmp = 1, kSctp = 132 };

Result<L4Proto> parseL4Proto(std::string_view text);  // "tcp", "udp", "sctp", "icmp" (any case)
const char* l4ProtoName(L4Proto p);

// Strict decimal parser for ports: 1..65535 unless allow_zero.
Result<uint16_t> parsePort(std::string_view text, bool allow_zero = false);

}  // namespace floatlb

template <>
struct std::hash<floatlb::Ip4> {
  size_t operator()(const floatlb::Ip4& ip) const noexcept { return std::hash<uint32_t>{}(ip.hostOrder()); }
};
