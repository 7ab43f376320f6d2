// Retry and client-side rate limiting for the EC2 client (pure: Clock, Sleeper and RandomSource are
// injected so tests run without real sleeps).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string_view>

#include "common/clock.h"

namespace floatlb::cloud::aws {

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleepFor(Duration d) = 0;
};

class RealSleeper final : public Sleeper {
 public:
  void sleepFor(Duration d) override;
};

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [0, 1).
  virtual double uniform01() = 0;
};

class Mt19937Random final : public RandomSource {
 public:
  Mt19937Random();
  double uniform01() override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

struct RetryPolicy {
  int maxAttempts = 5;                                  // total tries, including the first
  Duration baseDelay = std::chrono::milliseconds(200);  // cap for the first retry
  Duration maxDelay = std::chrono::seconds(20);         // cap for any single backoff
  Duration callTimeout = std::chrono::seconds(10);      // per HTTP attempt
};

// "Full jitter" (AWS Builders' Library): uniform(0, min(maxDelay, baseDelay * 2^(retry-1))) where
// retry = 1 for the first retry.
Duration backoffDelay(const RetryPolicy& policy, int retry, RandomSource& rnd);
// Upper bound of the interval above (tests, docs).
Duration backoffCap(const RetryPolicy& policy, int retry);

// Classic token bucket: `capacity` tokens, refilled continuously at `refillPerSec`.
class TokenBucket {
 public:
  TokenBucket(double capacity, double refill_per_sec, const Clock& clock);
  // Takes one token if available.
  bool tryAcquire();
  // Time until one token is available (0 if one is available now).
  [[nodiscard]] Duration timeUntilAvailable();
  [[nodiscard]] double available();

 private:
  void refill();
  double capacity_;
  double refill_per_sec_;
  const Clock& clock_;
  double tokens_;
  TimePoint last_;
};

// EC2 throttling buckets (anchors.md §3.5; per account and Region on the AWS side, per client here).
enum class ApiCategory : uint8_t {
  kNonMutating,         // Describe*/List*/Get*: 100 / 20 per s
  kUnfilteredDescribe,  // unfiltered+unpaginated DescribeInstances/NetworkInterfaces: 50 / 10
  kMutating,            // everything else: 50 / 5
  kEniMutating,         // Assign/UnassignPrivateIp, Create/DeleteNetworkInterface, ModifyNIAttribute: 100 / 5
  kTags,                // CreateTags/DeleteTags: 100 / 10
  kRunInstances,        // 5 / 2
  kCount
};
struct BucketLimit {
  double capacity;
  double refillPerSec;
};
BucketLimit defaultLimit(ApiCategory c);
ApiCategory categorize(std::string_view action, bool filtered);
const char* categoryName(ApiCategory c);

// One TokenBucket per category; thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock);
  RateLimiter(const Clock& clock,
              const std::array<BucketLimit, static_cast<size_t>(ApiCategory::kCount)>& limits);
  // Takes a token, sleeping (through `sleeper`) while the bucket is empty; gives up after max_wait
  // and returns false.
  bool acquire(ApiCategory c, Sleeper& sleeper, Duration max_wait);
  [[nodiscard]] double available(ApiCategory c);

 private:
  std::mutex mu_;
  std::array<TokenBucket, static_cast<size_t>(ApiCategory::kCount)> buckets_;
};

}  // namespace floatlb::cloud::aws
