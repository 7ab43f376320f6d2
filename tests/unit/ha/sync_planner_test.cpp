// SyncPlanner: what the MASTER sends to a peer per connection and per batch window.
#include "ha/sync_planner.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <set>

namespace floatlb::ha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

dataplane::CtEntry entry(uint32_t i, uint8_t state = FLB_CT_ST_EST, uint8_t proto = IPPROTO_TCP) {
  dataplane::CtEntry e{};
  e.key.saddr = i;
  e.key.daddr = 0x0a000001;
  e.key.sport = static_cast<uint16_t>(i);
  e.key.dport = 80;
  e.key.proto = proto;
  e.value.state = state;
  e.value.last_seen_ns = 1000 + i;
  return e;
}

// A readable summary of a plan: "BEGIN", "UP 3", "DEL 2", "END 3", "PING 1".
std::vector<std::string> shape(const std::vector<SyncMessage>& plan) {
  std::vector<std::string> out;
  for (const auto& m : plan) {
    if (std::holds_alternative<SyncFullBegin>(m)) out.push_back("BEGIN");
    if (auto* u = std::get_if<SyncUpsert>(&m)) out.push_back("UP " + std::to_string(u->entries.size()));
    if (auto* d = std::get_if<SyncDelete>(&m)) out.push_back("DEL " + std::to_string(d->keys.size()));
    if (auto* e = std::get_if<SyncFullEnd>(&m)) out.push_back("END " + std::to_string(e->count));
    if (auto* p = std::get_if<SyncPing>(&m)) out.push_back("PING " + std::to_string(p->seq));
  }
  return out;
}
using Shape = std::vector<std::string>;

class SyncPlannerTest : public ::testing::Test {
 protected:
  FakeClock clock;
  SyncPlanner planner{seconds(2)};
};

TEST(SyncableTest, EstablishedAndClosingTcpAndEstablishedUdp) {
  EXPECT_TRUE(syncable(entry(1).value, IPPROTO_TCP));
  EXPECT_TRUE(syncable(entry(1, FLB_CT_ST_FIN_WAIT).value, IPPROTO_TCP));
  EXPECT_FALSE(syncable(entry(1, FLB_CT_ST_SYN_SENT).value, IPPROTO_TCP));
  EXPECT_TRUE(syncable(entry(1, FLB_CT_ST_EST, IPPROTO_UDP).value, IPPROTO_UDP));
  EXPECT_FALSE(syncable(entry(1, FLB_CT_ST_FIN_WAIT, IPPROTO_UDP).value, IPPROTO_UDP));
}

TEST_F(SyncPlannerTest, ConnectedSendsTheSyncableEntriesAsAFullSyncInBatches) {
  std::vector<dataplane::CtEntry> dump;
  for (uint32_t i = 0; i < 2500; ++i) dump.push_back(entry(i));
  dump.push_back(entry(9000, FLB_CT_ST_SYN_SENT));  // half-open: not replicated
  auto plan = planner.connected(dump, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"BEGIN", "UP 1024", "UP 1024", "UP 452", "END 2500"}));
  EXPECT_EQ(upsertCount(plan), 2500u);
  EXPECT_EQ(planner.tracked(), 2500u);
}

TEST_F(SyncPlannerTest, BatchWindowSendsQueuedUpsertsThenDeletesWithoutARefresh) {
  (void)planner.connected({entry(1), entry(2)}, clock.now());
  clock.advance(milliseconds(50));
  EXPECT_FALSE(planner.refreshDue(clock.now()));
  auto plan = planner.tick(SyncPending{{entry(3)}, {entry(1).key}}, nullptr, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"UP 1", "DEL 1"}));
  EXPECT_EQ(std::get<SyncUpsert>(plan[0]).entries[0].key.saddr, 3u);
  EXPECT_EQ(std::get<SyncDelete>(plan[1]).keys[0].saddr, 1u);
  EXPECT_EQ(planner.tracked(), 2u) << "2 and 3";
  EXPECT_TRUE(planner.tick(SyncPending{}, nullptr, clock.now()).empty()) << "nothing queued: nothing sent";
}

TEST_F(SyncPlannerTest, RefreshSendsOnlyWhatChangedDeletesWhatVanishedAndPings) {
  auto a = entry(1), b = entry(2), c = entry(3);
  (void)planner.connected({a, b, c}, clock.now());
  clock.advance(milliseconds(1990));
  EXPECT_FALSE(planner.refreshDue(clock.now()));
  clock.advance(milliseconds(10));
  ASSERT_TRUE(planner.refreshDue(clock.now()));
  b.value.last_seen_ns += 500;                    // used since it was sent
  auto d = entry(4);                              // established, but its event was lost
  std::vector<dataplane::CtEntry> dump{a, b, d};  // c aged out
  auto plan = planner.tick(SyncPending{}, &dump, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"UP 2", "DEL 1", "PING 1"}));
  const auto& up = std::get<SyncUpsert>(plan[0]).entries;
  std::set<uint32_t> sent{up[0].key.saddr, up[1].key.saddr};
  EXPECT_EQ(sent, (std::set<uint32_t>{2, 4}));
  EXPECT_EQ(std::get<SyncDelete>(plan[1]).keys[0].saddr, 3u);
  EXPECT_FALSE(planner.refreshDue(clock.now())) << "the next refresh is an interval away";
  clock.advance(seconds(2));
  EXPECT_EQ(shape(planner.tick(SyncPending{}, &dump, clock.now())), (Shape{"PING 2"}))
      << "nothing changed since the last refresh";
  EXPECT_EQ(planner.pingSeq(), 2u);
}

TEST_F(SyncPlannerTest, QueuedChangesComeBeforeTheRefreshInOneWindow) {
  auto a = entry(1);
  (void)planner.connected({a}, clock.now());
  clock.advance(seconds(2));
  // The connection closed (event) but the entry is still in the table, closing: the queued
  // delete goes first, then the refresh re-sends the closing entry, in that order.
  auto closing = a;
  closing.value.state = FLB_CT_ST_FIN_WAIT;
  std::vector<dataplane::CtEntry> dump{closing};
  auto plan = planner.tick(SyncPending{{}, {a.key}}, &dump, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"DEL 1", "UP 1", "PING 1"}));
}

TEST_F(SyncPlannerTest, ADeletedEntryIsNotDeletedAgainAtTheRefresh) {
  (void)planner.connected({entry(1), entry(2)}, clock.now());
  (void)planner.tick(SyncPending{{}, {entry(1).key}}, nullptr, clock.now());
  clock.advance(seconds(2));
  std::vector<dataplane::CtEntry> dump{entry(2)};
  EXPECT_EQ(shape(planner.tick(SyncPending{}, &dump, clock.now())), (Shape{"PING 1"}));
}

TEST_F(SyncPlannerTest, LargeQueuedDeletesAreBatched) {
  (void)planner.connected({}, clock.now());
  SyncPending p;
  for (uint32_t i = 0; i < 5000; ++i) p.deletes.push_back(entry(i).key);
  auto plan = planner.tick(p, nullptr, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"DEL 1024", "DEL 1024", "DEL 1024", "DEL 1024", "DEL 904"}))
      << "the receiver rejects frames above kSyncMaxBatch";
}

TEST_F(SyncPlannerTest, DisconnectForgetsAndTheNextConnectionStartsOver) {
  (void)planner.connected({entry(1), entry(2)}, clock.now());
  planner.disconnected();
  EXPECT_EQ(planner.tracked(), 0u);
  clock.advance(seconds(10));
  EXPECT_FALSE(planner.refreshDue(clock.now())) << "no refresh while disconnected";
  auto plan = planner.connected({entry(2)}, clock.now());
  EXPECT_EQ(shape(plan), (Shape{"BEGIN", "UP 1", "END 1"}));
}

}  // namespace
}  // namespace floatlb::ha
