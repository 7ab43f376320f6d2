// Request policies of vpcsim, all pure and clock-driven: EC2-style token-bucket throttling per API
// category, fault injection per action, and the per-call latency model (applied by the server).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cloud/aws/retry.h"
#include "common/clock.h"
#include "sim/api_types.h"

namespace floatlb::sim {

// ---- throttling ---------------------------------------------------------------------------------
struct BucketSpec {
  double capacity = 0;
  double refill_per_s = 0;
};

// Bucket names: "describe", "describe-unfiltered", "mutating", or an action name with its own
// bucket (AssignPrivateIpAddresses, CreateTags, RunInstances ...). Defaults: anchors.md §3.5
// (EC2 developer guide, "Request throttling").
class Throttler {
 public:
  explicit Throttler(const Clock& clock);
  // Which bucket a call draws from. `unfiltered` = no ids and no filters were given.
  [[nodiscard]] static std::string bucketFor(const std::string& action, bool unfiltered);
  // ok, or RequestLimitExceeded (HTTP 503).
  ApiStatus admit(const std::string& action, bool unfiltered);
  void setEnabled(bool on) { enabled_ = on; }
  [[nodiscard]] bool enabled() const { return enabled_; }
  // Replaces one bucket's spec (bucket refilled to its new capacity).
  void configure(const std::string& bucket, BucketSpec spec);
  [[nodiscard]] static std::map<std::string, BucketSpec> defaults();
  [[nodiscard]] std::map<std::string, double> levels() const;

 private:
  const Clock& clock_;
  bool enabled_ = true;
  std::map<std::string, BucketSpec> specs_;
  // The client's token bucket (src/cloud/aws/retry.h): one implementation of the refill arithmetic.
  // mutable: reading a level refills the bucket first.
  mutable std::map<std::string, cloud::aws::TokenBucket> buckets_;
};

// ---- fault injection ----------------------------------------------------------------------------
struct FaultRule {
  std::string action;  // EC2 action name, or "*" for every action
  std::string code;    // error code to return ("" = no error, only latency/detach)
  std::string message = "Injected fault";
  int http_status = 400;
  int count = -1;                // how many more times to fire; -1 = unlimited
  double probability = 1.0;      // chance per matching call
  int64_t extra_latency_ms = 0;  // added to the call's latency
};

struct FaultDecision {
  std::optional<ApiError> error;
  int64_t extra_latency_ms = 0;
};

class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed = 1) : rng_(seed) {}
  void add(FaultRule rule) { rules_.push_back(std::move(rule)); }
  void clear() { rules_.clear(); }
  // Consumes matching rules (count) and decides this call's fate. Rules are tried in the order added;
  // the first matching error rule fires and later error rules are left for later calls (latency-only
  // rules always add up).
  FaultDecision decide(const std::string& action);
  [[nodiscard]] const std::vector<FaultRule>& rules() const { return rules_; }

 private:
  std::vector<FaultRule> rules_;
  std::mt19937_64 rng_;
};

// ---- latency model ------------------------------------------------------------------------------
// Per-call service time the server waits before answering. Defaults with sources in policy.cpp.
class LatencyModel {
 public:
  LatencyModel();
  [[nodiscard]] int64_t latencyMs(const std::string& action) const;
  void setZero();      // --latency=zero: every call answers immediately
  void setDefaults();  // back to the published-anchor defaults
  void set(const std::string& action, int64_t ms) { per_action_[action] = ms; }
  void setDescribeMs(int64_t ms) { describe_ms_ = ms; }
  void setMutatingMs(int64_t ms) { mutating_ms_ = ms; }
  [[nodiscard]] std::map<std::string, int64_t> table() const;
  [[nodiscard]] bool zero() const { return zero_; }

 private:
  bool zero_ = false;
  int64_t describe_ms_ = 0;
  int64_t mutating_ms_ = 0;
  std::map<std::string, int64_t> per_action_;
};

bool isDescribeAction(const std::string& action);

}  // namespace floatlb::sim
