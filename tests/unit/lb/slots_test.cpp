#include "lb/slots.h"

#include <gtest/gtest.h>

#include <map>

using namespace floatlb;
using namespace floatlb::lb;

namespace {
std::map<uint8_t, int> histogram(const std::vector<uint8_t>& slots) {
  std::map<uint8_t, int> h;
  for (auto s : slots) ++h[s];
  return h;
}

class FixedResolver : public SourceAddressResolver {
 public:
  Result<Ip4> sourceFor(Ip4) override { return Ip4::fromOctets(10, 0, 0, 1); }
};
}  // namespace

TEST(WeightedSlots, ProportionalToWeights) {
  auto slots = expandWeightedSlots({50, 30, 20}, 64);
  ASSERT_EQ(slots.size(), 64u);
  auto h = histogram(slots);
  EXPECT_EQ(h[0], 32);
  EXPECT_EQ(h[1], 19);
  EXPECT_EQ(h[2], 13);
}

TEST(WeightedSlots, InterleavedNotBunched) {
  auto slots = expandWeightedSlots({1, 1, 1}, 63);
  // Smooth WRR of equal weights is a strict rotation: no endpoint twice in a row.
  for (size_t i = 1; i < slots.size(); ++i) EXPECT_NE(slots[i], slots[i - 1]) << i;
  auto heavy = expandWeightedSlots({3, 1}, 64);
  int longest = 0, run = 0;
  for (size_t i = 0; i < heavy.size(); ++i) {
    run = (i > 0 && heavy[i] == heavy[i - 1]) ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 3);
}

TEST(WeightedSlots, ZeroWeightsGetNothingUnlessAllZero) {
  auto h = histogram(expandWeightedSlots({0, 5}, 64));
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_EQ(h[1], 64);
  auto all_zero = histogram(expandWeightedSlots({0, 0}, 64));
  EXPECT_EQ(all_zero[0], 32);
  EXPECT_EQ(all_zero[1], 32);
}

TEST(WeightedSlots, TinyWeightStillGetsASlot) {
  auto h = histogram(expandWeightedSlots({1000, 1}, 64));
  EXPECT_GE(h[1], 1);
  EXPECT_EQ(h[0] + h[1], 64);
}

TEST(SvcValue, FullnatUsesPrivateIpAsSnatSource) {
  RuleSpec r;
  r.key = {*Ip4::parse("198.18.0.10"), 55002, L4Proto::kTcp, 0};
  r.private_ip = *Ip4::parse("192.168.248.254");
  r.mode = LbMode::kFullNat;
  EndpointTable eps = {IndexedEndpoint{{*Ip4::parse("192.168.218.20"), 30080, 1}, true}, std::nullopt,
                       IndexedEndpoint{{*Ip4::parse("192.168.228.20"), 30080, 1}, false}};
  FixedResolver res;
  auto v = makeSvcValue(r, 7, eps, res);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->rule_id, 7u);
  EXPECT_EQ(v->n_eps, 3);
  EXPECT_EQ(v->n_slots, 1);  // the unhealthy endpoint and the hole are not selectable
  EXPECT_EQ(v->slots[0], 0);
  EXPECT_EQ(v->eps[0].snat_ip, Ip4::parse("192.168.248.254")->networkOrder());
  EXPECT_EQ(v->eps[2].flags & FLB_EP_F_ACTIVE, 0);
  EXPECT_EQ(v->ct_timeout_s, 240u);
  auto k = makeSvcKey(r);
  EXPECT_EQ(k.vip, Ip4::parse("192.168.248.254")->networkOrder());  // datapath matches the private VIP
}

TEST(SvcValue, OneArmAsksTheResolverDnatKeepsSource) {
  RuleSpec r;
  r.key = {*Ip4::parse("20.0.0.1"), 80, L4Proto::kUdp, 0};
  r.mode = LbMode::kOneArm;
  EndpointTable eps = {IndexedEndpoint{{*Ip4::parse("10.0.0.5"), 8080, 1}, true}};
  FixedResolver res;
  auto v = makeSvcValue(r, 1, eps, res);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->eps[0].snat_ip, Ip4::fromOctets(10, 0, 0, 1).networkOrder());
  EXPECT_EQ(v->ct_timeout_s, 20u);  // UDP default
  r.mode = LbMode::kDefault;
  v = makeSvcValue(r, 1, eps, res);
  EXPECT_EQ(v->eps[0].snat_ip, 0u);
}
