// The per-key rate limiter (client-go's exponential failure limiter with jitter) and the
// coalescing queue of an instance worker.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "operator/lb_queue.h"
#include "operator/rate_limiter.h"

namespace floatlb::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiter, DoublesWithJitterUpToTheCapAndForgetResets) {
  RateLimiter rl(seconds(1), seconds(60), 0.1, 7);
  Duration prev{};
  for (int n = 1; n <= 10; ++n) {
    Duration d = rl.when("default/a");
    Duration plain = std::min<Duration>(seconds(1) * (1 << (n - 1)), seconds(60));
    EXPECT_GE(d, plain) << n;
    EXPECT_LT(d, plain + plain / 10 + milliseconds(1)) << n;
    if (plain < seconds(60)) {
      EXPECT_GT(d, prev);
    }
    prev = d;
  }
  EXPECT_EQ(rl.failures("default/a"), 10u);
  EXPECT_EQ(rl.failures("default/b"), 0u);  // keys are independent
  EXPECT_EQ(rl.backingOff(), 1u);
  rl.forget("default/a");
  EXPECT_EQ(rl.backingOff(), 0u);
  EXPECT_LT(rl.when("default/a"), milliseconds(1101));
  EXPECT_EQ(rl.retries(), 11u);
}

TEST(RateLimiter, JitterSpreadsKeysThatFailTogether) {
  RateLimiter rl(seconds(1), seconds(60), 0.1, 1);
  std::set<int64_t> seen;
  for (int i = 0; i < 20; ++i) seen.insert(rl.when("k" + std::to_string(i)).count());
  EXPECT_GT(seen.size(), 15u);
}

TEST(RateLimiter, RetryAfterIsTheLeastDelay) {
  RateLimiter rl(seconds(1), seconds(60), 0.1, 1);
  EXPECT_EQ(rl.when("k", seconds(30)), seconds(30));
  EXPECT_EQ(rl.throttled(), 1u);
  Duration d = rl.when("k", seconds(1));  // the schedule (2 s + jitter) is longer than Retry-After
  EXPECT_GE(d, seconds(2));
  EXPECT_EQ(rl.throttled(), 1u);
}

LbOp op(LbOp::Kind k, const std::string& key, const std::string& body = "") {
  LbOp o;
  o.kind = k;
  o.key = key;
  o.body = body;
  return o;
}

TEST(LbOpQueue, FifoCoalescedInPlaceProbesFirst) {
  LbOpQueue q;
  q.push(op(LbOp::kPost, "a", "v1"));
  q.push(op(LbOp::kPost, "b", "v1"));
  q.push(op(LbOp::kPost, "a", "v2"));  // replaces a's queued op, keeps its place
  q.push(op(LbOp::kDelete, "c"));
  q.push(op(LbOp::kProbe, "probe"));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.coalesced(), 1u);
  EXPECT_EQ(q.pop()->key, "probe");
  auto a = q.pop();
  EXPECT_EQ(a->key, "a");
  EXPECT_EQ(a->body, "v2");
  EXPECT_EQ(q.pop()->key, "b");
  q.push(op(LbOp::kDelete, "b"));  // after b was taken: a new op, at the back
  auto rest = q.drain();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].key, "c");
  EXPECT_EQ(rest[1].key, "b");
  EXPECT_FALSE(q.pop().has_value());
}

}  // namespace
}  // namespace floatlb::kube
