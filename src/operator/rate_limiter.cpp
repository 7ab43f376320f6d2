#include "operator/rate_limiter.h"

#include <algorithm>

namespace floatlb::kube {

RateLimiter::RateLimiter(Duration base, Duration max, double jitter, uint32_t seed)
    : base_(base), max_(max), jitter_(jitter), rng_(seed) {}

Duration RateLimiter::when(const std::string& key, Duration at_least) {
  unsigned& n = failures_[key];
  n = std::min(n + 1, 62u);
  ++retries_;
  // base * 2^(n-1) without overflow: stop doubling once past max.
  Duration d = base_;
  for (unsigned i = 1; i < n && d < max_; ++i) d *= 2;
  d = std::min(d, max_);
  std::uniform_real_distribution<double> u(0.0, jitter_);
  d += std::chrono::duration_cast<Duration>(d * u(rng_));
  if (at_least > d) {
    ++throttled_;
    return at_least;
  }
  return d;
}

void RateLimiter::forget(const std::string& key) { failures_.erase(key); }

unsigned RateLimiter::failures(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

}  // namespace floatlb::kube
