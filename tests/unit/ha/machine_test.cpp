#include "ha/machine.h"

#include <gtest/gtest.h>

#include <optional>

using namespace floatlb;
using namespace floatlb::ha;
using std::chrono::milliseconds;

namespace {

// Two machines wired back to back; `link_up` models the heartbeat path.
struct Pair {
  FakeClock clock;
  HaMachine a{HaConfig{0}, clock.now()};
  HaMachine b{HaConfig{1}, clock.now()};
  bool a_to_b = true;
  bool b_to_a = true;
  bool a_alive = true;
  bool b_alive = true;

  // Advance time in 10 ms steps, delivering heartbeats every 100 ms, ticking every 10 ms.
  void run(milliseconds total) {
    for (milliseconds t{0}; t < total; t += milliseconds(10)) {
      clock.advance(milliseconds(10));
      const auto now = clock.now();
      const bool beat = (now.time_since_epoch() / milliseconds(10)) % 10 == 0;
      if (beat) {
        if (a_alive && b_alive && a_to_b) b.onHeartbeat(a.self(), now);
        if (a_alive && b_alive && b_to_a) a.onHeartbeat(b.self(), now);
      }
      if (a_alive) a.onTick(now);
      if (b_alive) b.onTick(now);
    }
  }
  int masters() const {
    return (a_alive && a.role() == CiState::kMaster) + (b_alive && b.role() == CiState::kMaster);
  }
};

}  // namespace

TEST(HaMachine, ElectsLowerNodeIdAtStartup) {
  Pair p;
  p.run(milliseconds(300));
  EXPECT_EQ(p.a.role(), CiState::kMaster);
  EXPECT_EQ(p.b.role(), CiState::kBackup);
  EXPECT_EQ(p.masters(), 1);
}

TEST(HaMachine, LoneNodeBecomesMasterAfterStartupHold) {
  FakeClock clock;
  HaMachine m(HaConfig{1}, clock.now());
  clock.advance(milliseconds(400));
  EXPECT_FALSE(m.onTick(clock.now()).has_value());  // still listening (hold = 5 x 100 ms)
  clock.advance(milliseconds(100));
  auto t = m.onTick(clock.now());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, CiState::kMaster);
  EXPECT_EQ(m.epoch(), 1u);
}

TEST(HaMachine, BackupTakesOverWithinDetectTime) {
  Pair p;
  p.run(milliseconds(300));
  ASSERT_EQ(p.a.role(), CiState::kMaster);
  p.a_alive = false;  // master dies
  p.run(milliseconds(290));
  EXPECT_EQ(p.b.role(), CiState::kBackup) << "too early: within 3 heartbeats";
  p.run(milliseconds(120));
  EXPECT_EQ(p.b.role(), CiState::kMaster);
  EXPECT_GT(p.b.epoch(), 1u);
}

TEST(HaMachine, ReturningNodeIsNotPreemptive) {
  Pair p;
  p.run(milliseconds(300));
  p.a_alive = false;
  p.run(milliseconds(500));
  ASSERT_EQ(p.b.role(), CiState::kMaster);
  // node 0 (the lower id, which would win a fresh election) restarts
  p.a = HaMachine(HaConfig{0}, p.clock.now());
  p.a_alive = true;
  p.run(milliseconds(1000));
  EXPECT_EQ(p.a.role(), CiState::kBackup);
  EXPECT_EQ(p.b.role(), CiState::kMaster);
}

TEST(HaMachine, PartitionHealLeavesExactlyOneMasterTheNewerOne) {
  Pair p;
  p.run(milliseconds(300));
  p.a_to_b = p.b_to_a = false;  // heartbeats dropped both ways, both nodes alive
  p.run(milliseconds(3000));
  EXPECT_EQ(p.masters(), 2) << "during the partition both serve";
  const uint64_t b_epoch = p.b.epoch();
  EXPECT_GT(b_epoch, p.a.epoch());
  p.a_to_b = p.b_to_a = true;
  p.run(milliseconds(200));  // one heartbeat round after the heal
  EXPECT_EQ(p.masters(), 1);
  EXPECT_EQ(p.b.role(), CiState::kMaster) << "the higher epoch (the node that took over) stays";
  EXPECT_EQ(p.a.role(), CiState::kBackup);
  EXPECT_EQ(p.a.epoch(), b_epoch);
}

TEST(HaMachine, OneWayPartitionResolvesOnHeal) {
  Pair p;
  p.run(milliseconds(300));
  p.a_to_b = false;  // B stops hearing A, A still hears B
  p.run(milliseconds(1000));
  // B became master with a higher epoch; A hears that and steps down: still exactly one master.
  EXPECT_EQ(p.masters(), 1);
  EXPECT_EQ(p.b.role(), CiState::kMaster);
  p.a_to_b = true;
  p.run(milliseconds(500));
  EXPECT_EQ(p.masters(), 1);
}

TEST(HaMachine, OperatorOverride) {
  Pair p;
  p.run(milliseconds(300));
  ASSERT_EQ(p.a.role(), CiState::kMaster);
  // Operator makes B master: it takes a new epoch, A steps down when it hears it.
  auto t = p.b.onAdmin(CiState::kMaster, p.clock.now());
  ASSERT_TRUE(t.has_value());
  p.run(milliseconds(200));
  EXPECT_EQ(p.b.role(), CiState::kMaster);
  EXPECT_EQ(p.a.role(), CiState::kBackup);
  // Operator tells B to step down: A (not yielding) gets elected.
  p.b.onAdmin(CiState::kBackup, p.clock.now());
  p.run(milliseconds(300));
  EXPECT_EQ(p.a.role(), CiState::kMaster);
  EXPECT_EQ(p.b.role(), CiState::kBackup);
  // The yielding node still takes over if the master dies.
  p.a_alive = false;
  p.run(milliseconds(500));
  EXPECT_EQ(p.b.role(), CiState::kMaster);
}

TEST(HaMachine, CloudStepDownHoldsUntilThePeerIsHeardNoFlipFlopInAPartition) {
  Pair p;
  p.run(milliseconds(300));
  ASSERT_EQ(p.a.role(), CiState::kMaster);
  // Partition: B takes over; A (alive, still MASTER) is stepped down by its cloud verify.
  p.a_to_b = p.b_to_a = false;
  p.run(milliseconds(500));
  ASSERT_EQ(p.b.role(), CiState::kMaster);
  ASSERT_TRUE(p.a.onCloudStepDown(p.clock.now(), "routes on the peer").has_value());
  EXPECT_TRUE(p.a.heldUntilPeerHeard());
  const uint64_t epoch = p.a.epoch();
  p.run(milliseconds(5000));  // the peer stays silent: A does not re-elect itself
  EXPECT_EQ(p.a.role(), CiState::kBackup);
  EXPECT_EQ(p.a.epoch(), epoch);
  // Heal: A hears B (MASTER) and stays BACKUP; the hold is gone, so B dying later means a takeover.
  p.a_to_b = p.b_to_a = true;
  p.run(milliseconds(300));
  EXPECT_EQ(p.a.role(), CiState::kBackup);
  EXPECT_EQ(p.b.role(), CiState::kMaster);
  EXPECT_FALSE(p.a.heldUntilPeerHeard());
  p.b_alive = false;
  p.run(milliseconds(500));
  EXPECT_EQ(p.a.role(), CiState::kMaster);
}

// A verify cycle started while MASTER can report after the node already heard the peer and went
// BACKUP; if a partition starts before the next heartbeat, a hold set then would keep the BACKUP
// from ever taking over (e2e_routed_failover caught it). A BACKUP is not held.
TEST(HaMachine, LateCloudStepDownOnABackupDoesNotHoldIt) {
  Pair p;
  p.run(milliseconds(300));
  ASSERT_EQ(p.b.role(), CiState::kBackup);
  EXPECT_FALSE(p.b.onCloudStepDown(p.clock.now(), "late verify result").has_value());
  EXPECT_FALSE(p.b.heldUntilPeerHeard());
  p.a_to_b = p.b_to_a = false;  // the partition starts before another heartbeat
  p.run(milliseconds(500));
  EXPECT_EQ(p.b.role(), CiState::kMaster) << "the BACKUP takes over when the peer goes silent";
}

TEST(HaMachine, SimultaneousMastersTieBreakOnNodeId) {
  FakeClock clock;
  HaMachine a(HaConfig{0}, clock.now()), b(HaConfig{1}, clock.now());
  clock.advance(milliseconds(600));
  a.onTick(clock.now());
  b.onTick(clock.now());
  ASSERT_EQ(a.role(), CiState::kMaster);
  ASSERT_EQ(b.role(), CiState::kMaster);
  ASSERT_EQ(a.epoch(), b.epoch());
  b.onHeartbeat(a.self(), clock.now());
  a.onHeartbeat(b.self(), clock.now());
  EXPECT_EQ(a.role(), CiState::kMaster);
  EXPECT_EQ(b.role(), CiState::kBackup);
}

// The survivor B took over (epoch 2) while A, cut off, still believes it is MASTER (epoch 1); then
// B's process restarts during the partition. Heals below decide who keeps the cloud resources.
namespace {
void survivorRestartsDuringPartition(Pair& p, std::optional<uint64_t> restored) {
  p.run(milliseconds(300));  // A MASTER (epoch 1), B BACKUP
  p.a_to_b = p.b_to_a = false;
  p.run(milliseconds(1000));  // B took over
  const uint64_t b_epoch = p.b.epoch();
  p.b = HaMachine(HaConfig{1}, p.clock.now());  // B's process restarts
  if (restored) p.b.restoreEpoch(b_epoch);
  p.run(milliseconds(1000));  // alone again: B takes over after the startup hold
}
}  // namespace

TEST(HaMachine, WithoutItsEpochARestartedSurvivorLosesTheTieToTheOldMaster) {
  Pair p;
  survivorRestartsDuringPartition(p, std::nullopt);
  ASSERT_EQ(p.b.role(), CiState::kMaster);
  EXPECT_EQ(p.b.epoch(), p.a.epoch()) << "both on epoch 1: the hazard restoreEpoch() exists for";
  p.a_to_b = p.b_to_a = true;
  p.run(milliseconds(200));
  EXPECT_EQ(p.a.role(), CiState::kMaster) << "the lower id wins the tie: a second takeover";
}

TEST(HaMachine, RestoredEpochKeepsTheRestartedSurvivorMasterAfterTheHeal) {
  Pair p;
  survivorRestartsDuringPartition(p, 2);
  ASSERT_EQ(p.b.role(), CiState::kMaster);
  EXPECT_EQ(p.b.epoch(), 3u) << "restored 2, then took over again: 3";
  p.a_to_b = p.b_to_a = true;
  p.run(milliseconds(200));
  EXPECT_EQ(p.masters(), 1);
  EXPECT_EQ(p.b.role(), CiState::kMaster) << "the node that moved the resources last keeps them";
  EXPECT_EQ(p.a.role(), CiState::kBackup);
}

TEST(HaMachine, RestoreEpochNeverLowersIt) {
  FakeClock clock;
  HaMachine m(HaConfig{1}, clock.now());
  m.restoreEpoch(5);
  m.restoreEpoch(2);
  EXPECT_EQ(m.epoch(), 5u);
}
