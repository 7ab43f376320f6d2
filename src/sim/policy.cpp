#include "sim/policy.h"

#include <algorithm>
#include <chrono>

namespace floatlb::sim {

bool isDescribeAction(const std::string& action) {
  for (const char* p : {"Describe", "List", "Search", "Get"}) {
    if (action.rfind(p, 0) == 0) return true;
  }
  return false;
}

// ---- Throttler ----------------------------------------------------------------------------------
std::map<std::string, BucketSpec> Throttler::defaults() {
  // anchors.md §3.5, EC2 devguide "Request throttling": bucket capacity / refill per second.
  return {
      {"describe", {100, 20}},            // non-mutating Describe*/List*/Search*/Get*
      {"describe-unfiltered", {50, 10}},  // unfiltered+unpaginated DescribeInstances/NetworkInterfaces
      {"mutating", {50, 5}},              // everything else that changes state
      {"AssignPrivateIpAddresses", {100, 5}},
      {"UnassignPrivateIpAddresses", {100, 5}},
      {"CreateNetworkInterface", {100, 5}},
      {"DeleteNetworkInterface", {100, 5}},
      {"ModifyNetworkInterfaceAttribute", {100, 5}},
      {"CreateTags", {100, 10}},
      {"DeleteTags", {100, 10}},
      {"RunInstances", {5, 2}},
      {"TerminateInstances", {100, 5}},
  };
}

Throttler::Throttler(const Clock& clock) : clock_(clock), specs_(defaults()) {}

std::string Throttler::bucketFor(const std::string& action, bool unfiltered) {
  static const auto kDefaults = defaults();
  if (kDefaults.count(action)) return action;
  if (isDescribeAction(action)) {
    if (unfiltered && (action == "DescribeInstances" || action == "DescribeNetworkInterfaces")) {
      return "describe-unfiltered";
    }
    return "describe";
  }
  return "mutating";
}

ApiStatus Throttler::admit(const std::string& action, bool unfiltered) {
  if (!enabled_) return {};
  std::string name = bucketFor(action, unfiltered);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    const BucketSpec& spec = specs_.at(name);
    it = buckets_.try_emplace(name, spec.capacity, spec.refill_per_s, clock_).first;
  }
  if (it->second.tryAcquire()) return {};
  return apiError("RequestLimitExceeded", "Request limit exceeded.", 503);
}

void Throttler::configure(const std::string& bucket, BucketSpec spec) {
  specs_[bucket] = spec;
  buckets_.erase(bucket);
}

std::map<std::string, double> Throttler::levels() const {
  std::map<std::string, double> out;
  for (auto& [name, b] : buckets_) out[name] = b.available();
  return out;
}

// ---- FaultInjector ------------------------------------------------------------------------------
FaultDecision FaultInjector::decide(const std::string& action) {
  FaultDecision d;
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (auto& r : rules_) {
    if (r.count == 0) continue;
    if (r.action != "*" && r.action != action) continue;
    // One error per call: later error rules wait for later calls instead of being used up silently,
    // so "RequestLimitExceeded x2, then 503 x1" plays out over three calls in the order added.
    if (!r.code.empty() && d.error) continue;
    if (r.probability < 1.0 && uni(rng_) >= r.probability) continue;
    if (r.count > 0) --r.count;
    d.extra_latency_ms += r.extra_latency_ms;
    if (!r.code.empty()) d.error = apiError(r.code, r.message, r.http_status);
  }
  std::erase_if(rules_, [](const FaultRule& r) { return r.count == 0; });
  return d;
}

// ---- LatencyModel -------------------------------------------------------------------------------
LatencyModel::LatencyModel() { setDefaults(); }

void LatencyModel::setDefaults() {
  zero_ = false;
  per_action_.clear();
  // Published EC2 per-call latencies are scarce (anchors.md §2.6); the values below are chosen to
  // land the whole failover sequence inside the anchors' observed end-to-end ranges.
  // [I] Describe calls: no published figure; 100 ms keeps a 10-call describe phase ~1 s.
  describe_ms_ = 100;
  // [I] Generic mutating call: 300 ms, so the ~12 mutating calls of the loxilb takeover
  // (loxilb.md §4.3) plus detach and hot-plug waits sum to ~10 s, the low end of the anchors'
  // "~10-60 s" for the create-in-own-AZ path (anchors.md §2.6 [I] failover budget).
  mutating_ms_ = 300;
  // [S] CreateNetworkInterface -> IPs allocated: 22:44:04.191 -> 22:44:06.001 (~1.8 s),
  // amazon-vpc-cni-k8s #1872 log (anchors.md §2.6).
  per_action_["CreateNetworkInterface"] = 1800;
  // [I] AssociateAddress: NGINX AWS HA guide measures 5-6 s for keepalived notify -> awscli
  // associate end to end (anchors.md §2.6); awscli start-up alone is ~0.8 s here
  // (feasibility.md §7), so the call itself is budgeted at 1 s.
  per_action_["AssociateAddress"] = 1000;
  // [I] AttachNetworkInterface: ECS agent waits 3-6 s for the hot-plug event (aws/amazon-ecs-agent
  // PR #2564); the API call itself returns earlier: 500 ms.
  per_action_["AttachNetworkInterface"] = 500;
  // [I] RunInstances (not on the failover path): 1 s.
  per_action_["RunInstances"] = 1000;
}

void LatencyModel::setZero() {
  zero_ = true;
  describe_ms_ = 0;
  mutating_ms_ = 0;
  per_action_.clear();
}

int64_t LatencyModel::latencyMs(const std::string& action) const {
  auto it = per_action_.find(action);
  if (it != per_action_.end()) return it->second;
  return isDescribeAction(action) ? describe_ms_ : mutating_ms_;
}

std::map<std::string, int64_t> LatencyModel::table() const {
  std::map<std::string, int64_t> t = per_action_;
  t["<describe>"] = describe_ms_;
  t["<mutating>"] = mutating_ms_;
  return t;
}

}  // namespace floatlb::sim
