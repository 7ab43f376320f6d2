#include "dataplane/aging.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace floatlb::dataplane {
namespace {

using std::chrono::seconds;

flb_ct_key key(uint32_t a, uint32_t b, uint8_t proto = IPPROTO_TCP) {
  flb_ct_key k{};
  k.saddr = a;
  k.daddr = b;
  k.sport = 1000;
  k.dport = 80;
  k.proto = proto;
  return k;
}

// A connection: forward entry + reverse entry, both last seen at `last_fwd` / `last_rev`.
std::vector<CtEntry> connection(uint8_t proto, uint8_t state, uint64_t last_fwd, uint64_t last_rev,
                                uint32_t timeout_s = 0, uint8_t flags = 0) {
  CtEntry f{key(1, 2, proto), {}};
  CtEntry r{key(3, 4, proto), {}};
  for (CtEntry* e : {&f, &r}) {
    e->value.state = state;
    e->value.timeout_s = timeout_s;
    e->value.rule_id = 7;
    e->value.ep_idx = 2;
    e->value.flags = flags;
  }
  f.value.dir = FLB_CT_DIR_FWD;
  f.value.peer = r.key;
  f.value.last_seen_ns = last_fwd;
  r.value.dir = FLB_CT_DIR_REV;
  r.value.peer = f.key;
  r.value.last_seen_ns = last_rev;
  return {f, r};
}

TEST(Aging, TimeoutsByState) {
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_SYN_SENT, 240), seconds(10));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_SYN_RECV, 240), seconds(10));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_EST, 300), seconds(300));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_EST, 0), seconds(240));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_FIN_WAIT, 240), seconds(30));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_TIME_WAIT, 240), seconds(10));
  EXPECT_EQ(ctTimeout(IPPROTO_TCP, FLB_CT_ST_CLOSED, 240), seconds(10));
  EXPECT_EQ(ctTimeout(IPPROTO_UDP, FLB_CT_ST_NEW, 20), seconds(10));
  EXPECT_EQ(ctTimeout(IPPROTO_UDP, FLB_CT_ST_EST, 0), seconds(20));
  EXPECT_EQ(ctTimeout(IPPROTO_UDP, FLB_CT_ST_EST, 45), seconds(45));
}

TEST(Aging, ExpiresStrictlyAfterTimeoutWithFakeClock) {
  FakeClock clock;
  const uint64_t seen = toNanos(clock.now());
  clock.advance(seconds(10));
  EXPECT_FALSE(shouldExpire(IPPROTO_TCP, FLB_CT_ST_SYN_SENT, 240, seen, clock.now()));
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(shouldExpire(IPPROTO_TCP, FLB_CT_ST_SYN_SENT, 240, seen, clock.now()));
  EXPECT_FALSE(shouldExpire(IPPROTO_TCP, FLB_CT_ST_EST, 240, seen, clock.now()));
  // last_seen in the future (datapath raced the dump): idle 0
  EXPECT_FALSE(shouldExpire(IPPROTO_TCP, FLB_CT_ST_CLOSED, 0, toNanos(clock.now()) + 5, clock.now()));
}

TEST(Aging, ConnectionIdleIsMaxOfBothDirections) {
  FakeClock clock;
  const uint64_t t0 = toNanos(clock.now());
  clock.advance(seconds(25));
  // forward idle 25 s, reverse idle 5 s: UDP established timeout 20 s is not reached
  auto entries = connection(IPPROTO_UDP, FLB_CT_ST_EST, t0, t0 + 20'000'000'000ull, 20);
  AgingPlan plan = planAging(entries, clock.now());
  EXPECT_EQ(plan.examined, 2u);
  EXPECT_TRUE(plan.remove.empty());

  clock.advance(seconds(16));  // now both idle > 20 s
  plan = planAging(entries, clock.now());
  ASSERT_EQ(plan.remove.size(), 2u);
  ASSERT_EQ(plan.lc_release.size(), 1u);  // only the forward entry holds an lc slot
  EXPECT_EQ(plan.lc_release[0].rule_id, 7u);
  EXPECT_EQ(plan.lc_release[0].ep_idx, 2);
}

TEST(Aging, SyncedEntriesReleaseNoLc) {
  FakeClock clock;
  auto entries = connection(IPPROTO_TCP, FLB_CT_ST_CLOSED, toNanos(clock.now()), toNanos(clock.now()), 0,
                            FLB_CT_F_SYNCED);
  clock.advance(seconds(11));
  AgingPlan plan = planAging(entries, clock.now());
  EXPECT_EQ(plan.remove.size(), 2u);
  EXPECT_TRUE(plan.lc_release.empty());
}

TEST(Aging, OrphanJudgedAlone) {
  FakeClock clock;
  auto entries = connection(IPPROTO_TCP, FLB_CT_ST_FIN_WAIT, toNanos(clock.now()), 0);
  entries.pop_back();  // the reverse entry was evicted
  clock.advance(seconds(29));
  EXPECT_TRUE(planAging(entries, clock.now()).remove.empty());
  clock.advance(seconds(2));
  EXPECT_EQ(planAging(entries, clock.now()).remove.size(), 1u);
}

TEST(Aging, FlushRuleTakesOnlyThatRule) {
  auto entries = connection(IPPROTO_TCP, FLB_CT_ST_EST, 1, 1);
  auto other = connection(IPPROTO_TCP, FLB_CT_ST_EST, 1, 1);
  for (auto& e : other) {
    e.value.rule_id = 8;
    e.key.sport = 2000;
  }
  entries.insert(entries.end(), other.begin(), other.end());
  AgingPlan plan = planFlushRule(entries, 8);
  ASSERT_EQ(plan.remove.size(), 2u);
  EXPECT_EQ(plan.remove[0].sport, 2000);
  EXPECT_EQ(plan.lc_release.size(), 1u);
}

}  // namespace
}  // namespace floatlb::dataplane
