#include "health/runner.h"

#include <algorithm>

namespace floatlb::health {

ProbeRunner::ProbeRunner(const Clock& clock, Prober& prober, ProbeScheduler::Callback on_change,
                         RunnerOptions options)
    : clock_(clock),
      prober_(prober),
      on_change_(std::move(on_change)),
      options_(options),
      scheduler_(clock, [this](const Transition& t) { pending_.push_back(t); }) {
  options_.workers = std::max<size_t>(1, options_.workers);
}

ProbeRunner::~ProbeRunner() { stop(); }

void ProbeRunner::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  sched_thread_ = std::thread([this] { schedulerLoop(); });
  for (size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

void ProbeRunner::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
  }
  sched_cv_.notify_all();
  work_cv_.notify_all();
  if (sched_thread_.joinable()) sched_thread_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
  std::lock_guard lock(mu_);
  queue_.clear();
  started_ = false;
}

bool ProbeRunner::addTarget(const TargetKey& key, const TargetConfig& config) {
  bool created = false;
  {
    std::lock_guard lock(mu_);
    created = scheduler_.addTarget(key, config);
  }
  sched_cv_.notify_all();
  return created;
}

bool ProbeRunner::removeTarget(const TargetKey& key) {
  std::lock_guard lock(mu_);
  return scheduler_.removeTarget(key);
}

Status ProbeRunner::setInterval(const TargetKey& key, Duration interval) {
  Status s;
  {
    std::lock_guard lock(mu_);
    s = scheduler_.setInterval(key, interval);
  }
  sched_cv_.notify_all();
  return s;
}

Status ProbeRunner::setRetries(const TargetKey& key, uint32_t retries) {
  std::lock_guard lock(mu_);
  return scheduler_.setRetries(key, retries);
}

std::optional<bool> ProbeRunner::healthy(const TargetKey& key) const {
  std::lock_guard lock(mu_);
  return scheduler_.healthy(key);
}

std::vector<EndpointStatus> ProbeRunner::snapshot() const {
  std::lock_guard lock(mu_);
  return scheduler_.snapshot();
}

void ProbeRunner::schedulerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::vector<ProbeJob> jobs = scheduler_.takeDue();
    if (!jobs.empty()) {
      for (auto& j : jobs) queue_.push_back(std::move(j));
      work_cv_.notify_all();
    }
    Duration wait = options_.max_idle_wait;
    if (auto due = scheduler_.nextDue()) wait = std::clamp(*due - clock_.now(), Duration{0}, wait);
    if (wait > Duration{0}) sched_cv_.wait_for(lock, wait);
  }
}

void ProbeRunner::workerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    ProbeJob job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    ProbeResult result = prober_.probe(job.spec);
    lock.lock();
    scheduler_.report(job, result);
    sched_cv_.notify_all();
    deliverPending(lock);
  }
}

// Called with mu_ held; returns with mu_ held. Delivery happens under deliver_mu_ only, which is
// taken before mu_ is released so transitions reach the callback in the order they happened.
void ProbeRunner::deliverPending(std::unique_lock<std::mutex>& lock) {
  if (pending_.empty()) return;
  std::vector<Transition> batch;
  batch.swap(pending_);
  std::unique_lock deliver(deliver_mu_);
  lock.unlock();
  if (on_change_) {
    for (const auto& t : batch) on_change_(t);
  }
  deliver.unlock();
  lock.lock();
}

}  // namespace floatlb::health
