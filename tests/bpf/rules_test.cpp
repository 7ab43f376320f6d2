// Rules made by the control plane (RuleManager, as the REST API makes them) run through the real tc
// program: priority (weighted) selection with and without an unhealthy endpoint, 32 endpoints,
// the 2,048-rule cap in the real maps, and a rule's inactiveTimeOut reaching its conntrack entries
// and expiring them.
#include <map>
#include <set>

#include "bpf/fixture.h"
#include "lb/rule_manager.h"
#include "support/lb_fakes.h"

namespace floatlb::testing {
namespace {

class RulesThroughDatapath : public DatapathTest {
 protected:
  void SetUp() override {
    DatapathTest::SetUp();
    if (dp_) rm_.emplace(*dp_, resolver_, &store_);
  }
  static lb::RuleSpec rule(std::vector<lb::Endpoint> eps, lb::LbSel sel = lb::LbSel::kRr,
                           uint16_t port = kVport) {
    lb::RuleSpec r;
    r.key = {Ip4(kVip), port, L4Proto::kTcp, 0};
    r.sel = sel;
    r.endpoints = std::move(eps);
    return r;
  }
  static lb::Endpoint ep(uint32_t host_ip, uint8_t weight = 1) { return {Ip4(host_ip), kEport, weight}; }
  // Endpoint (host-order address) chosen for each of `n` new connections from distinct ports.
  std::map<uint32_t, int> newFlows(int n, uint16_t first_port) {
    std::map<uint32_t, int> hits;
    for (int i = 0; i < n; ++i) {
      Parsed p = parsePacket(run(toVip(static_cast<uint16_t>(first_port + i))).packet);
      EXPECT_TRUE(p.ok);
      ++hits[p.daddr];
    }
    return hits;
  }

  FixedResolver resolver_{Ip4(kLbIf)};
  FakeRuleStore store_;
  std::optional<lb::RuleManager> rm_;
};

TEST_F(RulesThroughDatapath, PrioritySelectionFollowsWeights) {
  lb::RuleSpec r = rule({ep(kEp[0], 3), ep(kEp[1], 1)}, lb::LbSel::kPriority);
  r.monitor = true;
  ASSERT_TRUE(rm_->apply(r).ok());
  // 64 new flows walk the 64 weighted slots once: exactly 3:1
  EXPECT_EQ(newFlows(64, 20000), (std::map<uint32_t, int>{{kEp[0], 48}, {kEp[1], 16}}));
  // the heavier endpoint fails its probe: every new flow goes to the other one
  rm_->setProbeResult(lb::ProbeKey{Ip4(kEp[0]), r.effectiveProbeType(), r.effectiveProbePort(ep(kEp[0]))},
                      false);
  EXPECT_EQ(newFlows(32, 30000), (std::map<uint32_t, int>{{kEp[1], 32}}));
  // and back: the 3:1 split returns
  rm_->setProbeResult(lb::ProbeKey{Ip4(kEp[0]), r.effectiveProbeType(), r.effectiveProbePort(ep(kEp[0]))},
                      true);
  auto hits = newFlows(64, 40000);
  EXPECT_EQ(hits[kEp[0]], 48);
  EXPECT_EQ(hits[kEp[1]], 16);
}

TEST_F(RulesThroughDatapath, ThirtyTwoEndpointsAllCarryTraffic) {
  std::vector<lb::Endpoint> eps;
  for (uint32_t i = 0; i < 32; ++i) eps.push_back(ep(0xc0a8da00 + 20 + i));  // 192.168.218.20-51
  ASSERT_TRUE(rm_->apply(rule(eps)).ok());
  auto hits = newFlows(64, 20000);
  ASSERT_EQ(hits.size(), 32u);
  for (uint32_t i = 0; i < 32; ++i) EXPECT_EQ(hits[0xc0a8da00 + 20 + i], 2) << i;
}

TEST_F(RulesThroughDatapath, RuleCapHoldsInTheRealMaps) {
  for (uint32_t i = 0; i < lb::kMaxRules; ++i) {
    ASSERT_TRUE(rm_->apply(rule({ep(kEp[i % 3])}, lb::LbSel::kRr, static_cast<uint16_t>(10000 + i))).ok())
        << i;
  }
  auto refused = rm_->apply(rule({ep(kEp[0])}, lb::LbSel::kRr, 9000));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  auto listed = dp_->listServices();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2048u);
  // the last rule accepted forwards; the refused one is not in the datapath
  PacketSpec last = toVip(kCport);
  last.dport = static_cast<uint16_t>(10000 + lb::kMaxRules - 1);
  EXPECT_EQ(parsePacket(run(last).packet).daddr, kEp[(lb::kMaxRules - 1) % 3]);
  PacketSpec none = toVip(kCport);
  none.dport = 9000;
  const std::string pkt = buildPacket(none);
  EXPECT_EQ(runRaw(pkt).packet, pkt);
}

TEST_F(RulesThroughDatapath, InactiveTimeoutReachesConntrackAndExpiresIt) {
  lb::RuleSpec r = rule({ep(kEp[0])});
  r.inactive_timeout_s = 5;
  ASSERT_TRUE(rm_->apply(r).ok());
  lb::RuleSpec other = rule({ep(kEp[1])}, lb::LbSel::kRr, 81);  // default timeout (240 s)
  ASSERT_TRUE(rm_->apply(other).ok());
  auto handshake = [&](uint16_t vport, uint32_t backend) {
    PacketSpec syn = toVip(kCport);
    syn.dport = vport;
    run(syn);
    PacketSpec synack;
    synack.saddr = backend, synack.daddr = kClient, synack.sport = kEport, synack.dport = kCport;
    synack.tcp_flags = 0x12;
    run(synack);
    PacketSpec ack = syn;
    ack.tcp_flags = 0x10;
    run(ack);
  };
  handshake(kVport, kEp[0]);
  handshake(81, kEp[1]);
  std::map<uint32_t, std::set<uint32_t>> timeouts;  // rule id -> timeouts of its entries
  for (const auto& e : ct()) {
    EXPECT_EQ(e.value.state, FLB_CT_ST_EST);
    timeouts[e.value.rule_id].insert(e.value.timeout_s);
  }
  ASSERT_EQ(timeouts.size(), 2u);
  uint32_t short_id = 0;
  for (const auto& st : rm_->list()) {
    if (st.spec.key.port == kVport) short_id = st.rule_id;
  }
  EXPECT_EQ(timeouts[short_id], std::set<uint32_t>{5});
  for (const auto& [id, t] : timeouts) {
    if (id != short_id) {
      EXPECT_EQ(t, std::set<uint32_t>{240});
    }
  }
  SteadyClock clock;
  auto aged = dp_->ageConntrack(clock.now() + std::chrono::seconds(4));
  ASSERT_TRUE(aged.ok());
  EXPECT_EQ(aged->removed, 0u);  // 4 s idle < 5 s
  aged = dp_->ageConntrack(clock.now() + std::chrono::seconds(6));
  ASSERT_TRUE(aged.ok());
  EXPECT_EQ(aged->removed, 2u);  // both directions of the 5 s rule's flow; the 240 s one stays
  auto left = ct();
  ASSERT_EQ(left.size(), 2u);
  for (const auto& e : left) EXPECT_NE(e.value.rule_id, short_id);
}

}  // namespace
}  // namespace floatlb::testing
