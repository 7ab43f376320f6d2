#include "cloud/aws/retry.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace floatlb::cloud::aws {

void RealSleeper::sleepFor(Duration d) {
  if (d > Duration::zero()) std::this_thread::sleep_for(d);
}

Mt19937Random::Mt19937Random() : rng_(std::random_device{}()) {}

double Mt19937Random::uniform01() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

Duration backoffCap(const RetryPolicy& policy, int retry) {
  if (retry < 1) retry = 1;
  // Saturate the exponent so the shift cannot overflow.
  int shift = std::min(retry - 1, 30);
  double cap = static_cast<double>(policy.baseDelay.count()) * std::ldexp(1.0, shift);
  double max = static_cast<double>(policy.maxDelay.count());
  return Duration(static_cast<Duration::rep>(std::min(cap, max)));
}

Duration backoffDelay(const RetryPolicy& policy, int retry, RandomSource& rnd) {
  double u = std::clamp(rnd.uniform01(), 0.0, 1.0);
  return Duration(static_cast<Duration::rep>(static_cast<double>(backoffCap(policy, retry).count()) * u));
}

TokenBucket::TokenBucket(double capacity, double refill_per_sec, const Clock& clock)
    : capacity_(capacity),
      refill_per_sec_(refill_per_sec),
      clock_(clock),
      tokens_(capacity),
      last_(clock.now()) {}

void TokenBucket::refill() {
  TimePoint now = clock_.now();
  if (now <= last_) return;
  double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + secs * refill_per_sec_);
  last_ = now;
}

bool TokenBucket::tryAcquire() {
  refill();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

Duration TokenBucket::timeUntilAvailable() {
  refill();
  if (tokens_ >= 1.0) return Duration::zero();
  if (refill_per_sec_ <= 0) return Duration::max();
  double secs = (1.0 - tokens_) / refill_per_sec_;
  // Round up so that after sleeping this long a token is really there.
  return Duration(static_cast<Duration::rep>(std::ceil(secs * 1e9)));
}

double TokenBucket::available() {
  refill();
  return tokens_;
}

BucketLimit defaultLimit(ApiCategory c) {
  switch (c) {
    case ApiCategory::kNonMutating:
      return {100, 20};
    case ApiCategory::kUnfilteredDescribe:
      return {50, 10};
    case ApiCategory::kMutating:
      return {50, 5};
    case ApiCategory::kEniMutating:
      return {100, 5};
    case ApiCategory::kTags:
      return {100, 10};
    case ApiCategory::kRunInstances:
      return {5, 2};
    case ApiCategory::kCount:
      break;
  }
  return {50, 5};
}

const char* categoryName(ApiCategory c) {
  switch (c) {
    case ApiCategory::kNonMutating:
      return "non-mutating";
    case ApiCategory::kUnfilteredDescribe:
      return "unfiltered-describe";
    case ApiCategory::kMutating:
      return "mutating";
    case ApiCategory::kEniMutating:
      return "eni-mutating";
    case ApiCategory::kTags:
      return "tags";
    case ApiCategory::kRunInstances:
      return "run-instances";
    case ApiCategory::kCount:
      break;
  }
  return "?";
}

ApiCategory categorize(std::string_view a, bool filtered) {
  auto starts = [&](std::string_view p) { return a.substr(0, p.size()) == p; };
  if (a == "DescribeInstances" || a == "DescribeNetworkInterfaces" || a == "DescribeInstanceStatus" ||
      a == "DescribeSecurityGroups" || a == "DescribeVolumes" || a == "DescribeSnapshots") {
    return filtered ? ApiCategory::kNonMutating : ApiCategory::kUnfilteredDescribe;
  }
  if (starts("Describe") || starts("List") || starts("Get") || starts("Search"))
    return ApiCategory::kNonMutating;
  if (a == "AssignPrivateIpAddresses" || a == "UnassignPrivateIpAddresses" || a == "CreateNetworkInterface" ||
      a == "DeleteNetworkInterface" || a == "ModifyNetworkInterfaceAttribute") {
    return ApiCategory::kEniMutating;
  }
  if (a == "CreateTags" || a == "DeleteTags") return ApiCategory::kTags;
  if (a == "RunInstances") return ApiCategory::kRunInstances;
  return ApiCategory::kMutating;
}

namespace {
std::array<BucketLimit, static_cast<size_t>(ApiCategory::kCount)> defaultLimits() {
  std::array<BucketLimit, static_cast<size_t>(ApiCategory::kCount)> l{};
  for (size_t i = 0; i < l.size(); ++i) l[i] = defaultLimit(static_cast<ApiCategory>(i));
  return l;
}
}  // namespace

static_assert(static_cast<size_t>(ApiCategory::kCount) == 6, "update the RateLimiter constructor");

RateLimiter::RateLimiter(const Clock& clock) : RateLimiter(clock, defaultLimits()) {}

RateLimiter::RateLimiter(const Clock& clock,
                         const std::array<BucketLimit, static_cast<size_t>(ApiCategory::kCount)>& l)
    : buckets_{TokenBucket(l[0].capacity, l[0].refillPerSec, clock),
               TokenBucket(l[1].capacity, l[1].refillPerSec, clock),
               TokenBucket(l[2].capacity, l[2].refillPerSec, clock),
               TokenBucket(l[3].capacity, l[3].refillPerSec, clock),
               TokenBucket(l[4].capacity, l[4].refillPerSec, clock),
               TokenBucket(l[5].capacity, l[5].refillPerSec, clock)} {}

bool RateLimiter::acquire(ApiCategory c, Sleeper& sleeper, Duration max_wait) {
  Duration waited = Duration::zero();
  // Bounded: each round either takes a token or sleeps a positive amount towards max_wait.
  for (int round = 0; round < 1000; ++round) {
    Duration d;
    {
      std::lock_guard lock(mu_);
      TokenBucket& b = buckets_[static_cast<size_t>(c)];
      if (b.tryAcquire()) return true;
      d = b.timeUntilAvailable();
    }
    if (d <= Duration::zero()) d = std::chrono::milliseconds(1);
    if (waited + d > max_wait) return false;
    sleeper.sleepFor(d);
    waited += d;
  }
  return false;
}

double RateLimiter::available(ApiCategory c) {
  std::lock_guard lock(mu_);
  return buckets_[static_cast<size_t>(c)].available();
}

}  // namespace floatlb::cloud::aws
