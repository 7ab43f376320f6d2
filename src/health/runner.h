// ProbeRunner: runs a ProbeScheduler against a Prober in the background. One scheduling thread
// hands due probes to a fixed pool of worker threads, so a slow probe (a UDP or timed-out TCP probe
// waits its whole timeout) occupies one worker and never delays the other targets. Transitions are
// delivered to the callback in order, outside the runner's lock: the callback may call back into the
// runner (e.g. snapshot()). All public methods are thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "health/scheduler.h"

namespace floatlb::health {

struct RunnerOptions {
  size_t workers = 4;                                       // concurrent probes at most
  Duration max_idle_wait = std::chrono::milliseconds(500);  // upper bound of one scheduler sleep
};

class ProbeRunner {
 public:
  ProbeRunner(const Clock& clock, Prober& prober, ProbeScheduler::Callback on_change,
              RunnerOptions options = {});
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  void start();
  void stop();  // joins all threads; running probes finish first (bounded by their timeout)

  bool addTarget(const TargetKey& key, const TargetConfig& config);
  bool removeTarget(const TargetKey& key);
  Status setInterval(const TargetKey& key, Duration interval);
  Status setRetries(const TargetKey& key, uint32_t retries);
  [[nodiscard]] std::optional<bool> healthy(const TargetKey& key) const;
  [[nodiscard]] std::vector<EndpointStatus> snapshot() const;

 private:
  void schedulerLoop();
  void workerLoop();
  void deliverPending(std::unique_lock<std::mutex>& lock);

  const Clock& clock_;
  Prober& prober_;
  ProbeScheduler::Callback on_change_;
  RunnerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable sched_cv_;
  std::condition_variable work_cv_;
  std::mutex deliver_mu_;
  ProbeScheduler scheduler_;
  std::deque<ProbeJob> queue_;
  std::vector<Transition> pending_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread sched_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace floatlb::health
