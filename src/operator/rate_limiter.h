// Per-key exponential backoff with jitter for failing reconciles, the shape of client-go's
// workqueue ItemExponentialFailureRateLimiter: the n-th consecutive failure of a key waits
// base * 2^(n-1), capped at `max`, plus up to `jitter` of that at random (so a fleet of Services
// failing together does not retry in lock-step), and never less than a server's Retry-After.
// forget() after a success resets the key. Pure: a seeded generator, no clock (callers add now()).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "common/clock.h"

namespace floatlb::kube {

class RateLimiter {
 public:
  RateLimiter(Duration base, Duration max, double jitter, uint32_t seed = 1);

  // Records one more failure of `key` and returns how long to wait before retrying it.
  Duration when(const std::string& key, Duration at_least = Duration::zero());
  void forget(const std::string& key);

  [[nodiscard]] unsigned failures(const std::string& key) const;
  // Keys currently backing off (at least one failure since their last success).
  [[nodiscard]] size_t backingOff() const { return failures_.size(); }
  [[nodiscard]] uint64_t retries() const { return retries_; }
  // Retries whose delay came from a server's Retry-After rather than the exponential schedule.
  [[nodiscard]] uint64_t throttled() const { return throttled_; }
  [[nodiscard]] Duration maxDelay() const { return max_; }

 private:
  Duration base_, max_;
  double jitter_;
  std::mt19937 rng_;
  std::map<std::string, unsigned> failures_;
  uint64_t retries_ = 0, throttled_ = 0;
};

}  // namespace floatlb::kube
