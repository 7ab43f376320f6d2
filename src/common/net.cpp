#include "common/net.h"

#include <arpa/inet.h>

#include <charconv>

namespace floatlb {

Ip4 Ip4::fromNetwork(uint32_t be) { return Ip4(ntohl(be)); }
uint32_t Ip4::networkOrder() const { return htonl(v_); }

Result<Ip4> Ip4::parse(std::string_view text) {
  uint32_t out = 0;
  size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (pos >= text.size() || text[pos] != '.') {
        return makeError(ErrorCode::kInvalidArgument, "invalid IPv4 address '" + std::string(text) + "'");
      }
      ++pos;
    }
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 4) ++pos;
    unsigned value = 0;
    auto [p, ec] = std::from_chars(text.data() + start, text.data() + pos, value);
    if (ec != std::errc() || p != text.data() + pos || pos == start || pos - start > 3 || value > 255) {
      return makeError(ErrorCode::kInvalidArgument, "invalid IPv4 address '" + std::string(text) + "'");
    }
    out = (out << 8) | value;
  }
  if (pos != text.size()) {
    return makeError(ErrorCode::kInvalidArgument, "invalid IPv4 address '" + std::string(text) + "'");
  }
  return Ip4(out);
}

std::string Ip4::str() const {
  return std::to_string(v_ >> 24) + "." + std::to_string((v_ >> 16) & 0xff) + "." +
         std::to_string((v_ >> 8) & 0xff) + "." + std::to_string(v_ & 0xff);
}

Cidr::Cidr(Ip4 addr, uint8_t prefix_len) : len_(prefix_len > 32 ? 32 : prefix_len) {
  net_ = Ip4(addr.hostOrder() & mask());
}

uint32_t Cidr::mask() const { return len_ == 0 ? 0 : ~uint32_t{0} << (32 - len_); }
bool Cidr::contains(Ip4 ip) const { return (ip.hostOrder() & mask()) == net_.hostOrder(); }
bool Cidr::overlaps(const Cidr& o) const { return contains(o.net_) || o.contains(net_); }
std::string Cidr::str() const { return net_.str() + "/" + std::to_string(len_); }

Result<Cidr> Cidr::parse(std::string_view text, bool allow_host_bits) {
  auto slash = text.find('/');
  auto ip = Ip4::parse(text.substr(0, slash));
  if (!ip) return makeError(ErrorCode::kInvalidArgument, "invalid CIDR '" + std::string(text) + "'");
  unsigned len = 32;
  if (slash != std::string_view::npos) {
    auto rest = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len);
    if (ec != std::errc() || p != rest.data() + rest.size() || rest.empty() || len > 32) {
      return makeError(ErrorCode::kInvalidArgument, "invalid prefix length in CIDR '" + std::string(text) + "'");
    }
  }
  Cidr c(*ip, static_cast<uint8_t>(len));
  if (!allow_host_bits && c.network() != *ip) {
    return makeError(ErrorCode::kInvalidArgument,
                     "CIDR '" + std::string(text) + "' has host bits set (did you mean " + c.str() + "?)");
  }
  return c;
}

Result<L4Proto> parseL4Proto(std::string_view text) {
  std::string lower(text);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "tcp") return L4Proto::kTcp;
  if (lower == "udp") return L4Proto::kUdp;
  if (lower == "sctp") return L4Proto::kSctp;
  if (lower == "icmp") return L4Proto::kIcmp;
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown protocol '" + std::string(text) + "' (expected tcp, udp, sctp or icmp)");
}

const char* l4ProtoName(L4Proto p) {
  switch (p) {
    case L4Proto::kTcp: return "tcp";
    case L4Proto::kUdp: return "udp";
    case L4Proto::kSctp: return "sctp";
    case L4Proto::kIcmp: return "icmp";
  }
  return "unknown";
}

Result<uint16_t> parsePort(std::string_view text, bool allow_zero) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || v > 65535 || (v == 0 && !allow_zero)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid port '" + std::string(text) + "' (expected " + (allow_zero ? "0" : "1") + "..65535)");
  }
  return static_cast<uint16_t>(v);
}

}  // namespace floatlb
