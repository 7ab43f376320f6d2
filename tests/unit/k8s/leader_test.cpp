#include "k8s/leader.h"

#include <gtest/gtest.h>

namespace floatlb::k8s {
namespace {

using std::chrono::seconds;

LeaderConfig cfg(const std::string& id) {
  LeaderConfig c;
  c.identity = id;
  return c;
}

// The API server's view of one Lease, with resourceVersion bumps.
struct LeaseStore {
  std::optional<Json> lease;
  int rv = 1;
  bool write(const LeaseWrite& w) {
    if (w.kind == LeaseWrite::kNone) return false;
    if (w.kind == LeaseWrite::kCreate && lease) return false;  // AlreadyExists
    if (w.kind == LeaseWrite::kUpdate && (!lease || resourceVersion(w.lease) != resourceVersion(*lease)))
      return false;
    lease = w.lease;
    (*lease)["metadata"]["resourceVersion"] = std::to_string(++rv);
    return true;
  }
};

void round(LeaderElector& e, LeaseStore& s) {
  LeaseWrite w = e.plan(s.lease);
  if (w.kind == LeaseWrite::kNone) {
    e.tick();
  } else {
    e.onResult(s.write(w));
  }
}

TEST(Leader, AcquireRenewAndStandbyWaitsForLocalExpiry) {
  FakeClock clock;
  LeaseStore store;
  LeaderElector a(cfg("a"), clock), b(cfg("b"), clock);
  round(a, store);
  EXPECT_TRUE(a.leader());
  EXPECT_EQ((*store.lease)["spec"]["holderIdentity"], "a");
  EXPECT_EQ((*store.lease)["spec"]["leaseDurationSeconds"], 15);
  round(b, store);
  EXPECT_FALSE(b.leader());
  // a renews every 2 s; b never takes over.
  for (int i = 0; i < 20; ++i) {
    clock.advance(seconds(2));
    round(a, store);
    round(b, store);
    ASSERT_TRUE(a.leader());
    ASSERT_FALSE(b.leader());
  }
  // a dies (no more renewals): b takes over once 15 s passed on b's clock since the last change.
  clock.advance(seconds(2));
  round(b, store);
  for (int i = 0; i < 6; ++i) {
    clock.advance(seconds(2));
    round(b, store);
    ASSERT_FALSE(b.leader()) << i;
  }
  clock.advance(seconds(4));
  round(b, store);
  EXPECT_TRUE(b.leader());
  EXPECT_EQ((*store.lease)["spec"]["leaseTransitions"], 1);
  // a comes back: sees b holding it and steps down without writing.
  round(a, store);
  EXPECT_FALSE(a.leader());
}

TEST(Leader, StepsDownAfterTheRenewDeadlineWhenTheApiIsGone) {
  FakeClock clock;
  LeaseStore store;
  LeaderElector a(cfg("a"), clock);
  round(a, store);
  ASSERT_TRUE(a.leader());
  for (int i = 0; i < 4; ++i) {
    clock.advance(seconds(2));
    a.onResult(false);  // renew failed
    ASSERT_TRUE(a.leader());
  }
  clock.advance(seconds(3));
  a.onResult(false);
  EXPECT_FALSE(a.leader());
}

TEST(Leader, ReleaseLetsTheStandbyTakeOverAtOnce) {
  FakeClock clock;
  LeaseStore store;
  LeaderElector a(cfg("a"), clock), b(cfg("b"), clock);
  round(a, store);
  round(b, store);
  auto rel = a.release(*store.lease);
  ASSERT_TRUE(rel);
  EXPECT_EQ((*rel)["spec"]["holderIdentity"], "");
  LeaseWrite w{LeaseWrite::kUpdate, *rel};
  ASSERT_TRUE(store.write(w));
  clock.advance(seconds(2));
  round(b, store);
  EXPECT_TRUE(b.leader());
  EXPECT_FALSE(b.release(*store.lease) == std::nullopt);
  EXPECT_EQ(LeaderElector::microTime(1764615556123), "2025-12-01T18:59:16.123000Z");
}

}  // namespace
}  // namespace floatlb::k8s
