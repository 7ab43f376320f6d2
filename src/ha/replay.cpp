#include "ha/replay.h"

#include <chrono>

namespace floatlb::ha {

uint64_t processBootEpoch() {
  static const uint64_t boot = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                         std::chrono::system_clock::now().time_since_epoch())
                                                         .count());
  return boot;
}

ReplayGuard::Outcome ReplayGuard::check(Stamp s, TimePoint now, const std::string& what) {
  Outcome out;
  if (!newest_ || s.boot > newest_->boot) {
    if (newest_) {
      out.verdict = Verdict::kRestarted;
      ++restarts_;
    }
    newest_ = s;
    return out;
  }
  if (s.boot == newest_->boot && s.seq > newest_->seq) {
    newest_ = s;
    return out;
  }
  out.verdict = Verdict::kReplayed;
  ++rejected_;
  const bool new_burst = !last_reject_ || now - *last_reject_ >= burst_gap_;
  if (new_burst) {
    std::string line = "rejected replayed " + what + " (boot " + std::to_string(s.boot) + " seq " +
                       std::to_string(s.seq) + ", newest accepted boot " + std::to_string(newest_->boot) +
                       " seq " + std::to_string(newest_->seq) +
                       "); further rejects in this burst are counted only";
    if (burst_rejected_ > 1) line += "; " + std::to_string(burst_rejected_) + " in the previous burst";
    out.log = std::move(line);
    burst_rejected_ = 0;
  }
  ++burst_rejected_;
  last_reject_ = now;
  return out;
}

}  // namespace floatlb::ha
