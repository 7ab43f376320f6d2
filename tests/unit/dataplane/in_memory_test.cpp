#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "dataplane/in_memory_datapath.h"

namespace floatlb::dataplane {
namespace {

flb_svc_key svcKey(uint16_t port) {
  flb_svc_key k{};
  k.vip = 0x01f8a8c0;
  k.port = port;
  k.proto = IPPROTO_TCP;
  return k;
}

TEST(InMemoryDatapath, ServicesUpsertListDelete) {
  InMemoryDatapath dp;
  flb_svc svc{};
  svc.rule_id = 3;
  ASSERT_TRUE(dp.upsertService(svcKey(80), svc).ok());
  svc.rule_id = 4;
  ASSERT_TRUE(dp.upsertService(svcKey(80), svc).ok());  // replace
  auto list = dp.listServices();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].second.rule_id, 4u);
  EXPECT_EQ(dp.deleteService(svcKey(81)).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(dp.deleteService(svcKey(80)).ok());
  svc.n_eps = FLB_MAX_ENDPOINTS + 1;
  EXPECT_EQ(dp.upsertService(svcKey(80), svc).error().code, ErrorCode::kInvalidArgument);
}

TEST(InMemoryDatapath, InsertMarksSyncedAndAgingRemoves) {
  InMemoryDatapath dp;
  FakeClock clock;
  CtEntry e{};
  e.key.saddr = 1;
  e.key.proto = IPPROTO_UDP;
  e.value.state = FLB_CT_ST_NEW;
  e.value.last_seen_ns = toNanos(clock.now());
  e.value.fib.kind = FLB_FIB_REDIRECT;  // the sender's forwarding decision
  e.value.fib.oif = 9;
  ASSERT_TRUE(dp.insertConntrack(e).ok());
  auto dump = dp.dumpConntrack();
  ASSERT_TRUE(dump.ok());
  ASSERT_EQ(dump->size(), 1u);
  EXPECT_TRUE((*dump)[0].value.flags & FLB_CT_F_SYNCED);
  EXPECT_EQ((*dump)[0].value.fib.kind, FLB_FIB_NONE);
  EXPECT_EQ((*dump)[0].value.fib.oif, 0u);

  clock.advance(std::chrono::seconds(5));
  auto r = dp.ageConntrack(clock.now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 0u);
  clock.advance(std::chrono::seconds(6));
  r = dp.ageConntrack(clock.now());
  EXPECT_EQ(r->removed, 1u);
  EXPECT_TRUE(dp.dumpConntrack()->empty());
}

TEST(InMemoryDatapath, CountersEventsAndStatNames) {
  InMemoryDatapath dp;
  dp.addEndpointTraffic(5, 1, 3, 300);
  EXPECT_EQ((*dp.endpointCounters(5, FLB_MAX_ENDPOINTS))[1].bytes, 300u);
  ASSERT_TRUE(dp.resetRuleCounters(5).ok());
  EXPECT_EQ((*dp.endpointCounters(5, FLB_MAX_ENDPOINTS))[1].packets, 0u);

  flb_ct_event ev{};
  ev.type = FLB_EV_CT_NEW;
  dp.pushEvent(ev);
  dp.pushEvent(ev);
  int seen = 0;
  EXPECT_EQ(*dp.pollEvents([&](const flb_ct_event& e) { seen += e.type == FLB_EV_CT_NEW; }, 0), 2u);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(*dp.pollEvents([](const flb_ct_event&) {}, 0), 0u);

  EXPECT_STREQ(statName(FLB_STAT_CT_HIT), "ct_hit");
  for (int i = 0; i < FLB_STAT_MAX; ++i) EXPECT_STRNE(statName(static_cast<flb_stat>(i)), "unknown") << i;
}

}  // namespace
}  // namespace floatlb::dataplane
