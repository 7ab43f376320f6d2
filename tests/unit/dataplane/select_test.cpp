// The selection code the BPF program runs (bpf/include/floatlb/select.h), tested in user space.
#include "floatlb/select.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>

namespace {

flb_svc makeSvc(int n_eps) {
  flb_svc svc{};
  svc.n_eps = static_cast<__u8>(n_eps);
  svc.n_slots = static_cast<__u8>(n_eps);
  for (int i = 0; i < n_eps; ++i) {
    svc.slots[i] = static_cast<__u8>(i);
    svc.eps[i].flags = FLB_EP_F_ACTIVE;
  }
  return svc;
}

flb_ct_key tuple(uint32_t saddr, uint16_t sport, uint32_t daddr = 0xc0a8f801, uint16_t dport = 80) {
  flb_ct_key k{};
  k.saddr = htonl(saddr);
  k.daddr = htonl(daddr);
  k.sport = htons(sport);
  k.dport = htons(dport);
  k.proto = 6;
  return k;
}

TEST(Select, RoundRobinCursorSpreadsExactly) {
  const flb_svc svc = makeSvc(3);
  std::array<int, 3> hits{};
  for (uint32_t cursor = 0; cursor < 3000; ++cursor) {
    int ep = flb_slot_ep(&svc, flb_slot_of(cursor, svc.n_slots));
    ASSERT_GE(ep, 0);
    ++hits[static_cast<size_t>(ep)];
  }
  EXPECT_EQ(hits, (std::array<int, 3>{1000, 1000, 1000}));
}

TEST(Select, WeightedSlotsFollowWeights) {
  flb_svc svc = makeSvc(2);
  // control plane expansion for weights 3:1
  svc.n_slots = 4;
  svc.slots[0] = 0, svc.slots[1] = 0, svc.slots[2] = 1, svc.slots[3] = 0;
  std::array<int, 2> hits{};
  for (uint32_t cursor = 0; cursor < 400; ++cursor)
    ++hits[static_cast<size_t>(flb_slot_ep(&svc, flb_slot_of(cursor, 4)))];
  EXPECT_EQ(hits, (std::array<int, 2>{300, 100}));
}

void expectSpread(const std::array<int, 3>& hits, int total) {
  for (int h : hits) {
    EXPECT_GT(h, total / 3 * 0.9) << "too few";
    EXPECT_LT(h, total / 3 * 1.1) << "too many";
  }
}

TEST(Select, HashSpreadsRandomTuplesWithinTenPercent) {
  const flb_svc svc = makeSvc(3);
  std::mt19937 rng(12345);
  std::array<int, 3> hits{};
  constexpr int kN = 10000;
  for (int i = 0; i < kN; ++i) {
    flb_ct_key k = tuple(rng(), static_cast<uint16_t>(rng()));
    ++hits[static_cast<size_t>(flb_slot_ep(&svc, flb_slot_of(flb_tuple_hash(&k), svc.n_slots)))];
  }
  expectSpread(hits, kN);
}

TEST(Select, HashDoesNotFollowPortParity) {
  // Linux prefers even source ports: one client, only even ports, must still spread.
  const flb_svc svc = makeSvc(3);
  std::array<int, 3> hits{};
  std::array<int, 2> two_eps{};
  const flb_svc svc2 = makeSvc(2);
  int n = 0;
  for (uint32_t port = 32768; port < 32768 + 20000; port += 2, ++n) {
    flb_ct_key k = tuple(0xc6120005, static_cast<uint16_t>(port));
    ++hits[static_cast<size_t>(flb_slot_ep(&svc, flb_slot_of(flb_tuple_hash(&k), 3)))];
    ++two_eps[static_cast<size_t>(flb_slot_ep(&svc2, flb_slot_of(flb_tuple_hash(&k), 2)))];
  }
  expectSpread(hits, n);
  EXPECT_GT(two_eps[0], n * 0.45);
  EXPECT_GT(two_eps[1], n * 0.45);
}

TEST(Select, HashIsStableAndUsesEveryField) {
  flb_ct_key a = tuple(0x0a000001, 40000);
  flb_ct_key b = a;
  EXPECT_EQ(flb_tuple_hash(&a), flb_tuple_hash(&b));
  b.proto = 17;
  EXPECT_NE(flb_tuple_hash(&a), flb_tuple_hash(&b));
  b = a;
  b.dport = htons(81);
  EXPECT_NE(flb_tuple_hash(&a), flb_tuple_hash(&b));
  b = a;
  b.daddr ^= htonl(1);
  EXPECT_NE(flb_tuple_hash(&a), flb_tuple_hash(&b));
}

TEST(Select, SlotNamingMissingEndpointIsRejected) {
  flb_svc svc = makeSvc(2);
  svc.slots[1] = 5;  // n_eps = 2
  EXPECT_EQ(flb_slot_ep(&svc, 0), 0);
  EXPECT_EQ(flb_slot_ep(&svc, 1), -1);
}

TEST(Select, LeastConnectionPicksFewestFirstOnTies) {
  const flb_svc svc = makeSvc(3);
  flb_lc_counts lc{};
  lc.active[0] = 5, lc.active[1] = 2, lc.active[2] = 2;
  EXPECT_EQ(flb_lc_pick(&svc, &lc), 1);
  lc.active[2] = 1;
  EXPECT_EQ(flb_lc_pick(&svc, &lc), 2);
  // endpoints outside the slots are ignored even if idle
  flb_svc two = makeSvc(3);
  two.n_slots = 2;
  lc.active[0] = 9, lc.active[1] = 3, lc.active[2] = 0;
  EXPECT_EQ(flb_lc_pick(&two, &lc), 1);
  flb_svc none = makeSvc(0);
  EXPECT_EQ(flb_lc_pick(&none, &lc), -1);
}

TEST(Select, PersistFreshness) {
  const uint64_t s = 1'000'000'000ull;
  EXPECT_TRUE(flb_persist_fresh(100 * s, 159 * s, 60));
  EXPECT_FALSE(flb_persist_fresh(100 * s, 160 * s, 60));
  EXPECT_FALSE(flb_persist_fresh(100 * s, 99 * s, 60));  // clock went backwards: not trusted
  EXPECT_TRUE(flb_persist_fresh(0, (FLB_PERSIST_DEFAULT_S - 1) * s, 0));
  EXPECT_FALSE(flb_persist_fresh(0, FLB_PERSIST_DEFAULT_S * s, 0));
}

TEST(Select, SelectableNeedsActiveFlagAndRange) {
  flb_svc svc = makeSvc(2);
  EXPECT_TRUE(flb_ep_selectable(&svc, 1));
  svc.eps[1].flags = 0;
  EXPECT_FALSE(flb_ep_selectable(&svc, 1));
  EXPECT_FALSE(flb_ep_selectable(&svc, 2));
}

TEST(Select, AlternativePortsAreDistinctAndInRange) {
  const flb_ct_key k = tuple(0x0a000001, 40000);
  std::set<uint16_t> ports;
  for (uint32_t attempt = 1; attempt < FLB_SNAT_TRIES; ++attempt) {
    uint16_t p = flb_alt_port(&k, attempt);
    EXPECT_GE(p, FLB_SNAT_PORT_MIN);
    ports.insert(p);
  }
  EXPECT_EQ(ports.size(), FLB_SNAT_TRIES - 1u);
}

}  // namespace
