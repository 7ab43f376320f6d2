#include "health/scheduler.h"

#include <algorithm>

namespace floatlb::health {

ProbeScheduler::ProbeScheduler(const Clock& clock, Callback on_change)
    : clock_(clock), on_change_(std::move(on_change)) {}

bool ProbeScheduler::addTarget(const TargetKey& key, const TargetConfig& config) {
  auto [it, created] = targets_.try_emplace(key);
  Target& t = it->second;
  ++t.refs;
  if (!created) return false;
  t.config = config;
  t.generation = next_generation_++;
  t.healthy = config.initially_healthy;
  t.next_due = clock_.now() + config.first_probe_delay;
  return true;
}

bool ProbeScheduler::removeTarget(const TargetKey& key) {
  auto it = targets_.find(key);
  if (it == targets_.end()) return false;
  if (--it->second.refs > 0) return false;
  targets_.erase(it);
  return true;
}

Status ProbeScheduler::setInterval(const TargetKey& key, Duration interval) {
  auto it = targets_.find(key);
  if (it == targets_.end()) return makeError(ErrorCode::kNotFound, "no probe target " + key.name());
  if (interval <= Duration::zero())
    return makeError(ErrorCode::kInvalidArgument, "probe interval must be > 0");
  Target& t = it->second;
  t.config.interval = interval;
  // A shorter interval takes effect now rather than after the old, longer wait.
  if (!t.running) t.next_due = std::min(t.next_due, clock_.now() + interval);
  return okStatus();
}

Status ProbeScheduler::setRetries(const TargetKey& key, uint32_t retries) {
  auto it = targets_.find(key);
  if (it == targets_.end()) return makeError(ErrorCode::kNotFound, "no probe target " + key.name());
  it->second.config.retries = retries;
  return okStatus();
}

std::vector<ProbeJob> ProbeScheduler::takeDue() {
  std::vector<ProbeJob> jobs;
  const TimePoint now = clock_.now();
  for (auto& [key, t] : targets_) {
    if (t.running || t.next_due > now || key.type == ProbeType::kNone) continue;
    t.running = true;
    jobs.push_back(ProbeJob{ProbeSpec{key, t.config.request, t.config.timeout}, t.generation});
  }
  return jobs;
}

void ProbeScheduler::report(const ProbeJob& job, const ProbeResult& result) {
  auto it = targets_.find(job.spec.target);
  if (it == targets_.end() || it->second.generation != job.generation) return;
  Target& t = it->second;
  t.running = false;
  ++t.probes;
  t.next_due = clock_.now() + t.config.interval;
  const bool was_healthy = t.healthy;
  if (result.ok) {
    t.failures = 0;
    t.healthy = true;
    if (job.spec.target.type == ProbeType::kPing) {
      t.rtts.push_back(result.rtt);
      if (t.rtts.size() > kRttWindow) t.rtts.pop_front();
    }
  } else {
    ++t.failures;
    if (t.failures >= std::max<uint32_t>(1, t.config.retries)) t.healthy = false;
  }
  if (t.healthy != was_healthy && on_change_) on_change_(Transition{job.spec.target, t.healthy});
}

std::optional<TimePoint> ProbeScheduler::nextDue() const {
  std::optional<TimePoint> best;
  for (const auto& [key, t] : targets_) {
    if (t.running || key.type == ProbeType::kNone) continue;
    if (!best || t.next_due < *best) best = t.next_due;
  }
  return best;
}

std::optional<bool> ProbeScheduler::healthy(const TargetKey& key) const {
  auto it = targets_.find(key);
  if (it == targets_.end()) return std::nullopt;
  return it->second.healthy;
}

std::vector<EndpointStatus> ProbeScheduler::snapshot() const {
  std::vector<EndpointStatus> out;
  out.reserve(targets_.size());
  for (const auto& [key, t] : targets_) {
    EndpointStatus s;
    s.key = key;
    s.name = key.name();
    s.interval = t.config.interval;
    s.retries = t.config.retries;
    s.healthy = t.healthy;
    s.consecutive_failures = t.failures;
    s.refs = t.refs;
    s.probes = t.probes;
    s.request = t.config.request;
    if (!t.rtts.empty()) {
      Duration sum{0};
      for (Duration r : t.rtts) sum += r;
      s.min_rtt = *std::min_element(t.rtts.begin(), t.rtts.end());
      s.max_rtt = *std::max_element(t.rtts.begin(), t.rtts.end());
      s.avg_rtt = sum / static_cast<int64_t>(t.rtts.size());
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace floatlb::health
