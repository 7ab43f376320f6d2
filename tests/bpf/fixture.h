// Shared fixture of the datapath tests: a fresh, unpinned program + maps per test case.
#pragma once

#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include <memory>
#include <vector>

#include "bpf/packet.h"
#include "dataplane/libbpf_datapath.h"

namespace floatlb::testing {

inline constexpr uint32_t kVip = 0xc0a8f80a;                              // 192.168.248.10
inline constexpr uint32_t kClient = 0xc6120005;                           // 198.18.0.5
inline constexpr uint32_t kEp[3] = {0xc0a8da0b, 0xc0a8da0c, 0xc0a8da0d};  // 192.168.218.11-13
inline constexpr uint32_t kLbIf = 0xc0a8da02;                             // 192.168.218.2 (one-arm source)
inline constexpr uint16_t kVport = 80, kEport = 8080, kCport = 40000;

inline flb_svc_key svcKey(uint8_t proto = IPPROTO_TCP, uint32_t block = 0) {
  flb_svc_key k{};
  k.vip = htonl(kVip);
  k.port = htons(kVport);
  k.proto = proto;
  k.block = block;
  return k;
}

inline flb_svc makeSvc(uint8_t mode, uint8_t sel, int n_eps, uint32_t snat_ip_host = 0) {
  flb_svc s{};
  s.rule_id = 7;
  s.mode = mode;
  s.sel = sel;
  s.n_eps = static_cast<uint8_t>(n_eps);
  s.n_slots = static_cast<uint8_t>(n_eps);
  s.ct_timeout_s = 240;
  s.persist_timeout_s = 60;
  for (int i = 0; i < n_eps; ++i) {
    s.slots[i] = static_cast<uint8_t>(i);
    s.eps[i].ip = htonl(kEp[i]);
    s.eps[i].port = htons(kEport);
    s.eps[i].snat_ip = snat_ip_host ? htonl(snat_ip_host) : 0;
    s.eps[i].weight = 1;
    s.eps[i].flags = FLB_EP_F_ACTIVE;
  }
  return s;
}

inline int epIndexOf(uint32_t host_ip) {
  for (int i = 0; i < 3; ++i)
    if (kEp[i] == host_ip) return i;
  return -1;
}

class DatapathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataplane::LibbpfDatapath::Options o;
    o.pin_dir = "";
    o.attach = false;
    auto dp = dataplane::LibbpfDatapath::open(o);
    ASSERT_TRUE(dp.ok()) << dp.error().message;
    dp_ = std::move(dp).value();
  }

  dataplane::ProgRun run(const PacketSpec& spec, uint32_t mark = 0) {
    return runRaw(buildPacket(spec), mark);
  }
  dataplane::ProgRun runRaw(const std::string& pkt, uint32_t mark = 0) {
    dataplane::ProgRunInput in;
    in.packet = pkt;
    in.mark = mark;
    auto r = dp_->testRun(in);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : dataplane::ProgRun{};
  }
  uint64_t stat(flb_stat s) {
    auto g = dp_->globalStats();
    EXPECT_TRUE(g.ok());
    return g.ok() ? (*g)[s] : 0;
  }
  std::vector<dataplane::CtEntry> ct() {
    auto d = dp_->dumpConntrack();
    EXPECT_TRUE(d.ok());
    return d.ok() ? std::move(d).value() : std::vector<dataplane::CtEntry>{};
  }
  void addService(const flb_svc& svc, const flb_svc_key& key = svcKey()) {
    auto st = dp_->upsertService(key, svc);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  // Client packet to the VIP.
  static PacketSpec toVip(uint16_t sport = kCport, uint8_t flags = 0x02, uint8_t proto = IPPROTO_TCP,
                          uint32_t client = kClient) {
    PacketSpec s;
    s.proto = proto;
    s.saddr = client;
    s.daddr = kVip;
    s.sport = sport;
    s.dport = kVport;
    s.tcp_flags = flags;
    return s;
  }

  std::unique_ptr<dataplane::LibbpfDatapath> dp_;
};

}  // namespace floatlb::testing
