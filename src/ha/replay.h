// Replay protection for the HA channels (heartbeats, sync frames). The HMAC stops forgery, not
// replay: a recorded heartbeat of the master, sent again, would hold the backup off. So every
// message carries a stamp (boot epoch, sequence), covered by the HMAC:
//  - boot: fixed for the life of the sending process, larger after every restart (wall-clock
//    nanoseconds at start, so it survives a restart without state on disk);
//  - seq: starts at 1 and grows by one per message the process sends on that channel.
// A receiver remembers, per peer and channel, the newest stamp it accepted and takes a message
// only when its stamp is newer: same boot and larger seq, or a larger boot (the peer restarted).
// Anything else is a replay (or, without a key, a stale reordered datagram) and is rejected,
// counted, and logged once per burst. Assumption: a peer's wall clock does not step back by more
// than its restart time; if it did, its messages are rejected until it passes its old boot (the
// survivor then sees the peer as silent and takes over: availability first, as for a dead peer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"

namespace floatlb::ha {

struct Stamp {
  uint64_t boot = 0;
  uint64_t seq = 0;
  auto operator<=>(const Stamp&) const = default;
};

// This process's boot epoch: wall-clock nanoseconds, read once.
uint64_t processBootEpoch();

class ReplayGuard {
 public:
  enum class Verdict { kAccepted, kRestarted, kReplayed };
  struct Outcome {
    Verdict verdict = Verdict::kAccepted;
    // Set when a rejection starts a burst (nothing rejected for `burst_gap`): the caller logs
    // this line once; the rest of the burst is only counted.
    std::optional<std::string> log;
    [[nodiscard]] bool accepted() const { return verdict != Verdict::kReplayed; }
  };

  explicit ReplayGuard(Duration burst_gap = std::chrono::seconds(5)) : burst_gap_(burst_gap) {}

  // Checks a message's stamp; records it when accepted. `what` names the channel and peer in
  // the log line ("heartbeat from 10.0.0.2").
  Outcome check(Stamp s, TimePoint now, const std::string& what);

  [[nodiscard]] uint64_t rejected() const { return rejected_; }
  [[nodiscard]] uint64_t restarts() const { return restarts_; }
  [[nodiscard]] std::optional<Stamp> newest() const { return newest_; }

 private:
  Duration burst_gap_;
  std::optional<Stamp> newest_;
  uint64_t rejected_ = 0;
  uint64_t restarts_ = 0;
  uint64_t burst_rejected_ = 0;  // rejected since the current burst's log line
  std::optional<TimePoint> last_reject_;
};

}  // namespace floatlb::ha
