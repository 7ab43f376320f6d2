// CiStateTable: creation, no-op repeats, observers (told outside the lock, with the previous
// state), ordering, names.
#include "ha/ci_state.h"

#include <gtest/gtest.h>

namespace floatlb::ha {
namespace {

struct Seen {
  std::string name;
  CiState now;
  CiState previous;
  uint64_t transitions;
};

TEST(CiStateTest, UnknownInstanceIsNotDefined) {
  FakeClock clock;
  CiStateTable t(clock);
  EXPECT_EQ(t.state("nope"), CiState::kNotDefined);
  EXPECT_TRUE(t.all().empty());
}

TEST(CiStateTest, SetCreatesRecordsAndRepeatsAreNoOps) {
  FakeClock clock;
  CiStateTable t(clock);
  const Ip4 vip = Ip4::fromOctets(198, 18, 0, 1);
  auto r = t.set("inst0", CiState::kBackup, vip, "API");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  clock.advance(std::chrono::seconds(5));
  auto again = t.set("inst0", CiState::kBackup, vip, "API again");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "identical state and VIP";
  auto all = t.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, CiState::kBackup);
  EXPECT_EQ(all[0].vip, vip);
  EXPECT_EQ(all[0].transitions, 1u);
  EXPECT_EQ(all[0].reason, "API") << "a no-op keeps the reason of the last change";
  EXPECT_EQ(all[0].changed_wall_ms, FakeClock().wallMillis());

  ASSERT_TRUE(*t.set("inst0", CiState::kBackup, Ip4::fromOctets(198, 18, 0, 2)));
  ASSERT_TRUE(*t.set("inst0", CiState::kMaster, Ip4::fromOctets(198, 18, 0, 2), "epoch 3: peer silent"));
  all = t.all();
  EXPECT_EQ(all[0].transitions, 3u);
  EXPECT_EQ(all[0].reason, "epoch 3: peer silent");
  EXPECT_EQ(all[0].changed_wall_ms, clock.wallMillis());
  EXPECT_EQ(t.state("inst0"), CiState::kMaster);
}

TEST(CiStateTest, EmptyNameIsRejected) {
  FakeClock clock;
  CiStateTable t(clock);
  auto r = t.set("", CiState::kMaster, Ip4());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(t.all().empty());
}

TEST(CiStateTest, ObserversSeeEveryChangeWithThePreviousStateAndMayReadTheTable) {
  FakeClock clock;
  CiStateTable t(clock);
  std::vector<Seen> seen;
  t.addObserver([&](const CiInstance& now, CiState previous) {
    // Called outside the table's lock: reading (or writing) the table here must not deadlock.
    seen.push_back({now.name, t.state(now.name), previous, now.transitions});
  });
  (void)t.set("inst0", CiState::kBackup, Ip4());
  (void)t.set("inst0", CiState::kBackup, Ip4());
  (void)t.set("inst0", CiState::kMaster, Ip4());
  ASSERT_EQ(seen.size(), 2u) << "the no-op repeat is not reported";
  EXPECT_EQ(seen[0].previous, CiState::kNotDefined);
  EXPECT_EQ(seen[0].now, CiState::kBackup);
  EXPECT_EQ(seen[1].previous, CiState::kBackup);
  EXPECT_EQ(seen[1].now, CiState::kMaster);
  EXPECT_EQ(seen[1].transitions, 2u);
}

TEST(CiStateTest, ObserverMayChangeAnotherInstance) {
  FakeClock clock;
  CiStateTable t(clock);
  t.addObserver([&](const CiInstance& now, CiState) {
    if (now.name == "a") (void)t.set("b", now.state, Ip4(), "follows a");
  });
  (void)t.set("a", CiState::kMaster, Ip4());
  EXPECT_EQ(t.state("b"), CiState::kMaster);
}

TEST(CiStateTest, AllIsSortedByName) {
  FakeClock clock;
  CiStateTable t(clock);
  for (const char* n : {"zeta", "alpha", "mid"}) (void)t.set(n, CiState::kStop, Ip4());
  auto all = t.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "alpha");
  EXPECT_EQ(all[1].name, "mid");
  EXPECT_EQ(all[2].name, "zeta");
}

TEST(CiStateTest, NamesRoundTripAndAreExact) {
  for (CiState s :
       {CiState::kMaster, CiState::kBackup, CiState::kFault, CiState::kStop, CiState::kNotDefined}) {
    auto back = parseCiState(ciStateName(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(parseCiState("master").ok()) << "the reference's names are upper case";
  EXPECT_FALSE(parseCiState("").ok());
  EXPECT_FALSE(parseCiState("MASTER ").ok());
}

}  // namespace
}  // namespace floatlb::ha
