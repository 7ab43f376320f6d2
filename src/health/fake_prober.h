// FakeProber: a scripted, thread-safe Prober for tests of the scheduler, the runner and the daemon.
// Results are set per target (default: healthy). A target can be "held": its probes block until
// release() (or a 10 s safety bound), to prove that one slow probe does not delay the others.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "health/probe.h"

namespace floatlb::health {

class FakeProber final : public Prober {
 public:
  void setResult(const TargetKey& key, bool ok, Duration rtt = Duration{0}) {
    std::lock_guard lock(mu_);
    results_[key] = ProbeResult{ok, rtt, ok ? "" : "fake failure"};
  }
  void hold(const TargetKey& key) {
    std::lock_guard lock(mu_);
    held_.insert(key);
  }
  void release(const TargetKey& key) {
    {
      std::lock_guard lock(mu_);
      held_.erase(key);
    }
    cv_.notify_all();
  }
  [[nodiscard]] int calls(const TargetKey& key) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(key);
    return it == calls_.end() ? 0 : it->second;
  }

  ProbeResult probe(const ProbeSpec& spec) override {
    std::unique_lock lock(mu_);
    ++calls_[spec.target];
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return held_.count(spec.target) == 0; });
    auto it = results_.find(spec.target);
    return it == results_.end() ? ProbeResult{true, Duration{0}, ""} : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<TargetKey, ProbeResult> results_;
  std::map<TargetKey, int> calls_;
  std::set<TargetKey> held_;
};

}  // namespace floatlb::health
