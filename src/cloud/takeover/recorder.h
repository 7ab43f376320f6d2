// CallRecorder: times one EC2 call and appends it to a TakeoverTimeline (thread-safe: concurrent
// calls of one round append from their own threads). Shared by the subnet-mode TakeoverExecutor and
// the RoutedExecutor.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "cloud/aws/ec2_api.h"
#include "cloud/takeover/timeline.h"
#include "common/clock.h"
#include "common/log.h"

namespace floatlb::cloud::takeover {

inline std::string awsText(const aws::AwsError& e) {
  return e.code.empty() ? e.message : e.code + ": " + e.message;
}

class CallRecorder {
 public:
  using OnProgress = std::function<void(const TakeoverTimeline&)>;
  CallRecorder(aws::Ec2Api& ec2, const Clock& clock) : ec2_(ec2), clock_(clock) {}

  // Flags of the calls recorded from now on.
  int cycle = 0;
  bool critical = true;
  bool live = false;  // report progress (run/cleanup, not prepare)
  OnProgress progress;

  template <class F>
  auto operator()(TakeoverTimeline& tl, const char* action, const std::string& target, F&& call,
                  bool poll = false, bool concurrent = false) -> decltype(call()) {
    TakeoverCall c;
    c.poll = poll;
    c.action = action;
    c.target = target;
    c.cycle = cycle;
    c.critical = critical;
    c.concurrent = concurrent;
    const TimePoint start = clock_.now();
    c.startMs = std::chrono::duration_cast<std::chrono::milliseconds>(start - tl.detected).count();
    auto r = call();
    c.attempts = std::max(1, ec2_.lastCallAttempts());
    c.latencyMs = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - start).count();
    c.ok = r.ok();
    if (!r.ok()) c.error = awsText(r.error());
    FLB_DEBUG("cloud", "{} {} -> {} ({} ms)", action, target, c.ok ? "ok" : c.error, c.latencyMs);
    std::lock_guard l(mu_);
    tl.calls.push_back(std::move(c));
    if (progress && live) progress(tl);
    return r;
  }

 private:
  aws::Ec2Api& ec2_;
  const Clock& clock_;
  std::mutex mu_;
};

}  // namespace floatlb::cloud::takeover
