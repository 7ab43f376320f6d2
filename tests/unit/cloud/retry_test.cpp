#include "cloud/aws/retry.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

using namespace std::chrono_literals;
using testing::FakeSleeper;
using testing::FixedRandom;

TEST(Backoff, FullJitterWithinExponentialCap) {
  RetryPolicy p;
  p.baseDelay = 100ms;
  p.maxDelay = 2s;
  EXPECT_EQ(backoffCap(p, 1), 100ms);
  EXPECT_EQ(backoffCap(p, 2), 200ms);
  EXPECT_EQ(backoffCap(p, 4), 800ms);
  EXPECT_EQ(backoffCap(p, 5), 1600ms);
  EXPECT_EQ(backoffCap(p, 6), 2s);    // capped
  EXPECT_EQ(backoffCap(p, 500), 2s);  // no overflow
  FixedRandom zero(0.0), half(0.5), almost(0.999);
  EXPECT_EQ(backoffDelay(p, 3, zero), 0ms);
  EXPECT_EQ(backoffDelay(p, 3, half), 200ms);
  EXPECT_LT(backoffDelay(p, 3, almost), 400ms);
  EXPECT_GT(backoffDelay(p, 3, almost), 390ms);
  // A real RNG stays inside [0, cap] for every retry number.
  Mt19937Random rnd;
  for (int retry = 1; retry < 40; ++retry) {
    Duration d = backoffDelay(p, retry, rnd);
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, backoffCap(p, retry));
  }
}

TEST(TokenBucket, DrainsAndRefillsWithFakeClock) {
  FakeClock clock;
  TokenBucket b(3, 2, clock);  // 3 tokens, +2/s
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_FALSE(b.tryAcquire());
  EXPECT_EQ(b.timeUntilAvailable(), 500ms);
  clock.advance(499ms);
  EXPECT_FALSE(b.tryAcquire());
  clock.advance(1ms);
  EXPECT_TRUE(b.tryAcquire());
  clock.advance(10s);  // refill is capped at capacity
  EXPECT_DOUBLE_EQ(b.available(), 3.0);
}

TEST(RateLimiter, SleepsUntilTokenThenGivesUp) {
  FakeClock clock;
  FakeSleeper sleeper(clock);
  std::array<BucketLimit, static_cast<size_t>(ApiCategory::kCount)> limits{};
  for (auto& l : limits) l = {1, 1};
  limits[static_cast<size_t>(ApiCategory::kMutating)] = {2, 4};  // 2 tokens, 4/s
  RateLimiter rl(clock, limits);
  EXPECT_TRUE(rl.acquire(ApiCategory::kMutating, sleeper, 1s));
  EXPECT_TRUE(rl.acquire(ApiCategory::kMutating, sleeper, 1s));
  EXPECT_TRUE(sleeper.sleeps.empty());
  EXPECT_TRUE(rl.acquire(ApiCategory::kMutating, sleeper, 1s));
  ASSERT_EQ(sleeper.sleeps.size(), 1u);
  EXPECT_EQ(sleeper.sleeps[0], 250ms);
  // Other categories have their own bucket.
  EXPECT_TRUE(rl.acquire(ApiCategory::kNonMutating, sleeper, 0s));
  // Empty bucket and no time allowed to wait: refused without sleeping.
  EXPECT_FALSE(rl.acquire(ApiCategory::kNonMutating, sleeper, 100ms));
  EXPECT_EQ(sleeper.sleeps.size(), 1u);
}

TEST(RateLimiter, CategoriesFollowEc2Buckets) {
  EXPECT_EQ(categorize("DescribeSubnets", true), ApiCategory::kNonMutating);
  EXPECT_EQ(categorize("DescribeSubnets", false), ApiCategory::kNonMutating);
  EXPECT_EQ(categorize("DescribeNetworkInterfaces", false), ApiCategory::kUnfilteredDescribe);
  EXPECT_EQ(categorize("DescribeNetworkInterfaces", true), ApiCategory::kNonMutating);
  EXPECT_EQ(categorize("AssociateAddress", true), ApiCategory::kMutating);
  EXPECT_EQ(categorize("AssignPrivateIpAddresses", true), ApiCategory::kEniMutating);
  EXPECT_EQ(categorize("CreateTags", true), ApiCategory::kTags);
  EXPECT_EQ(categorize("RunInstances", true), ApiCategory::kRunInstances);
  EXPECT_EQ(defaultLimit(ApiCategory::kMutating).capacity, 50);
  EXPECT_EQ(defaultLimit(ApiCategory::kMutating).refillPerSec, 5);
  EXPECT_EQ(defaultLimit(ApiCategory::kNonMutating).capacity, 100);
  EXPECT_EQ(defaultLimit(ApiCategory::kNonMutating).refillPerSec, 20);
}

}  // namespace
}  // namespace floatlb::cloud::aws
