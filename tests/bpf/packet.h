// Crafting and checking IPv4 TCP/UDP frames for BPF_PROG_TEST_RUN tests and the benchmark.
// Checksums are computed from scratch here, independently of the incremental updates in BPF.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace floatlb::testing {

struct PacketSpec {
  uint8_t proto = 6;   // IPPROTO_TCP / IPPROTO_UDP
  uint32_t saddr = 0;  // host order
  uint32_t daddr = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t tcp_flags = 0x02;  // SYN
  uint8_t ttl = 64;
  uint8_t ip_option_words = 0;  // extra 32-bit words of IPv4 options (ihl = 5 + n)
  uint16_t frag = 0;            // host-order frag_off field (MF = 0x2000)
  bool udp_no_csum = false;     // UDP checksum 0 ("none")
  size_t payload = 24;
};

inline uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

inline uint16_t foldCsum(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

inline uint32_t sumBytes(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

// L4 checksum over the pseudo header + segment whose checksum field holds `csum_field_value`.
inline uint16_t l4Csum(const uint8_t* iph, const uint8_t* l4, size_t l4_len) {
  uint32_t sum = sumBytes(iph + 12, 8);
  sum += iph[9];
  sum += static_cast<uint32_t>(l4_len);
  return foldCsum(sumBytes(l4, l4_len, sum));
}

inline std::string buildPacket(const PacketSpec& s) {
  const size_t ihl = 20 + 4u * s.ip_option_words;
  const size_t l4len = (s.proto == 6 ? 20 : 8) + s.payload;
  std::string f(14 + ihl + l4len, '\0');
  auto* b = reinterpret_cast<uint8_t*>(f.data());
  // BPF_PROG_TEST_RUN classifies the frame against the loopback device (MAC 00:..:00): that MAC
  // makes it PACKET_HOST, which the program requires.
  const uint8_t dmac[6] = {0, 0, 0, 0, 0, 0}, smac[6] = {0x02, 0, 0, 0, 0, 0x02};
  std::memcpy(b, dmac, 6);
  std::memcpy(b + 6, smac, 6);
  b[12] = 0x08, b[13] = 0x00;
  uint8_t* iph = b + 14;
  iph[0] = static_cast<uint8_t>(0x40 | (ihl / 4));
  const uint16_t tot = htons(static_cast<uint16_t>(ihl + l4len));
  std::memcpy(iph + 2, &tot, 2);
  iph[4] = 0x12, iph[5] = 0x34;
  const uint16_t frag = htons(s.frag);
  std::memcpy(iph + 6, &frag, 2);
  iph[8] = s.ttl;
  iph[9] = s.proto;
  const uint32_t sa = htonl(s.saddr), da = htonl(s.daddr);
  std::memcpy(iph + 12, &sa, 4);
  std::memcpy(iph + 16, &da, 4);
  for (size_t i = 20; i < ihl; ++i) iph[i] = 0x01;  // NOP options
  const uint16_t ipc = htons(foldCsum(sumBytes(iph, ihl)));
  std::memcpy(iph + 10, &ipc, 2);

  uint8_t* l4 = iph + ihl;
  const uint16_t sp = htons(s.sport), dp = htons(s.dport);
  std::memcpy(l4, &sp, 2);
  std::memcpy(l4 + 2, &dp, 2);
  size_t hdr = 8;
  if (s.proto == 6) {
    hdr = 20;
    l4[4] = 0, l4[5] = 0, l4[6] = 0x10, l4[7] = 0x01;  // seq
    l4[12] = 5 << 4;
    l4[13] = s.tcp_flags;
    l4[14] = 0xff, l4[15] = 0xff;  // window
  } else {
    const uint16_t ulen = htons(static_cast<uint16_t>(l4len));
    std::memcpy(l4 + 4, &ulen, 2);
  }
  for (size_t i = 0; i < s.payload; ++i) l4[hdr + i] = static_cast<uint8_t>('a' + i % 26);
  if (!(s.proto == 17 && s.udp_no_csum)) {
    uint16_t c = l4Csum(iph, l4, l4len);
    if (s.proto == 17 && c == 0) c = 0xffff;
    c = htons(c);
    std::memcpy(l4 + (s.proto == 6 ? 16 : 6), &c, 2);
  }
  return f;
}

struct Parsed {
  bool ok = false;
  uint32_t saddr = 0, daddr = 0;  // host order
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0, ttl = 0;
  bool ip_csum_ok = false;
  bool l4_csum_ok = false;
  uint16_t l4_csum_field = 0;
  std::string dmac, smac;
};

inline Parsed parsePacket(const std::string& f) {
  Parsed p;
  const auto* b = reinterpret_cast<const uint8_t*>(f.data());
  if (f.size() < 34 || b[12] != 0x08 || b[13] != 0) return p;
  p.dmac = f.substr(0, 6);
  p.smac = f.substr(6, 6);
  const uint8_t* iph = b + 14;
  const size_t ihl = (iph[0] & 0xf) * 4u;
  const size_t tot = (size_t{iph[2]} << 8) | iph[3];
  if (f.size() < 14 + tot || tot < ihl + 8) return p;
  p.ip_csum_ok = foldCsum(sumBytes(iph, ihl)) == 0;
  p.ttl = iph[8];
  p.proto = iph[9];
  p.saddr = (uint32_t{iph[12]} << 24) | (uint32_t{iph[13]} << 16) | (uint32_t{iph[14]} << 8) | iph[15];
  p.daddr = (uint32_t{iph[16]} << 24) | (uint32_t{iph[17]} << 16) | (uint32_t{iph[18]} << 8) | iph[19];
  const uint8_t* l4 = iph + ihl;
  p.sport = static_cast<uint16_t>((l4[0] << 8) | l4[1]);
  p.dport = static_cast<uint16_t>((l4[2] << 8) | l4[3]);
  const size_t off = p.proto == 6 ? 16 : 6;
  p.l4_csum_field = static_cast<uint16_t>((l4[off] << 8) | l4[off + 1]);
  if (p.proto == 17 && p.l4_csum_field == 0) {
    p.l4_csum_ok = true;  // "no checksum" is valid for UDP
  } else {
    p.l4_csum_ok = l4Csum(iph, l4, tot - ihl) == 0;
  }
  p.ok = true;
  return p;
}

}  // namespace floatlb::testing
