// VipManager over a fake AddressOps and a FakeClock: claim on MASTER, release on
// BACKUP/FAULT/STOP, leave the host alone without HA, re-announce, retry after failures.
#include "ha/vip.h"

#include <gtest/gtest.h>

#include "support/fake_address_ops.h"

namespace floatlb::ha {
namespace {

using std::chrono::seconds;
using Calls = std::vector<std::string>;

const Ip4 kVip1 = Ip4::fromOctets(198, 18, 0, 10);
const Ip4 kVip2 = Ip4::fromOctets(198, 18, 0, 11);

class VipTest : public ::testing::Test {
 protected:
  void setState(const std::string& inst, CiState s) { ASSERT_TRUE(table.set(inst, s, Ip4()).ok()); }

  FakeClock clock;
  CiStateTable table{clock};
  testing::FakeAddressOps ops;
  std::vector<VipBinding> bindings{{kVip1, "inst0"}};
  VipManager vips{ops, table, [this] { return bindings; }, clock, seconds(10)};
};

TEST_F(VipTest, MasterClaimsAndAnnouncesOnce) {
  setState("inst0", CiState::kMaster);
  EXPECT_EQ(vips.reconcile(), std::vector<Ip4>{kVip1});
  EXPECT_EQ(ops.take(), (Calls{"add 198.18.0.10", "announce 198.18.0.10"}));
  EXPECT_EQ(vips.held(), std::set<Ip4>{kVip1});
  EXPECT_TRUE(vips.reconcile().empty()) << "already held: not claimed again";
  EXPECT_TRUE(ops.take().empty());
}

TEST_F(VipTest, ReannouncesOnlyWhenDue) {
  setState("inst0", CiState::kMaster);
  vips.reconcile();
  ops.take();
  clock.advance(seconds(9));
  vips.reconcile();
  EXPECT_TRUE(ops.take().empty());
  clock.advance(seconds(1));
  vips.reconcile();
  EXPECT_EQ(ops.take(), Calls{"announce 198.18.0.10"});
  clock.advance(seconds(5));
  vips.reconcile();
  EXPECT_TRUE(ops.take().empty()) << "the period restarts at the last announcement";
}

TEST_F(VipTest, BackupFaultAndStopRelease) {
  for (CiState s : {CiState::kBackup, CiState::kFault, CiState::kStop}) {
    setState("inst0", CiState::kMaster);
    vips.reconcile();
    ops.take();
    setState("inst0", s);
    EXPECT_TRUE(vips.reconcile().empty());
    EXPECT_EQ(ops.take(), Calls{"del 198.18.0.10"}) << ciStateName(s);
    EXPECT_TRUE(vips.held().empty());
    EXPECT_TRUE(ops.on_lo.empty());
  }
}

TEST_F(VipTest, NotDefinedLeavesTheHostAlone) {
  ops.on_lo.insert(kVip1);  // put there by someone else
  EXPECT_TRUE(vips.reconcile().empty());
  setState("inst0", CiState::kNotDefined);
  EXPECT_TRUE(vips.reconcile().empty());
  EXPECT_TRUE(ops.take().empty());
  EXPECT_EQ(ops.on_lo.count(kVip1), 1u);
}

TEST_F(VipTest, BackupRemovesAVipLeftFromAnEarlierRun) {
  ops.on_lo.insert(kVip1);
  setState("inst0", CiState::kBackup);
  vips.reconcile();
  EXPECT_EQ(ops.take(), Calls{"del 198.18.0.10"});
  EXPECT_TRUE(ops.on_lo.empty());
}

TEST_F(VipTest, FailedClaimIsRetriedAndFailedReleaseKeepsTheVipHeld) {
  setState("inst0", CiState::kMaster);
  ops.fail_add.insert(kVip1);
  EXPECT_TRUE(vips.reconcile().empty());
  EXPECT_EQ(ops.take(), Calls{"add 198.18.0.10"}) << "no announcement of a VIP we do not hold";
  EXPECT_TRUE(vips.held().empty());
  ops.fail_add.clear();
  EXPECT_EQ(vips.reconcile(), std::vector<Ip4>{kVip1});
  ops.take();

  setState("inst0", CiState::kBackup);
  ops.fail_del.insert(kVip1);
  vips.reconcile();
  EXPECT_EQ(vips.held(), std::set<Ip4>{kVip1}) << "still on lo: still held";
  ops.fail_del.clear();
  ops.take();
  vips.reconcile();
  EXPECT_EQ(ops.take(), Calls{"del 198.18.0.10"});
  EXPECT_TRUE(vips.held().empty());
}

TEST_F(VipTest, InstancesAreIndependentAndRemovedBindingsAreReleased) {
  bindings.push_back({kVip2, "inst1"});
  setState("inst0", CiState::kMaster);
  setState("inst1", CiState::kBackup);
  EXPECT_EQ(vips.reconcile(), std::vector<Ip4>{kVip1});
  EXPECT_EQ(ops.on_lo, std::set<Ip4>{kVip1});
  setState("inst1", CiState::kMaster);
  EXPECT_EQ(vips.reconcile(), std::vector<Ip4>{kVip2});
  EXPECT_EQ(vips.held(), (std::set<Ip4>{kVip1, kVip2}));
  bindings.erase(bindings.begin());  // the rule with VIP 1 was deleted
  ops.take();
  vips.reconcile();
  EXPECT_EQ(ops.take(), Calls{"del 198.18.0.10"});
  EXPECT_EQ(vips.held(), std::set<Ip4>{kVip2});
}

}  // namespace
}  // namespace floatlb::ha
