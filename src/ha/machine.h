// The HA state machine of one instance on one node (pure: no sockets, no clock reads).
//
// Two nodes exchange heartbeats (heartbeat.h). Each heartbeat carries the sender's role and its
// epoch: the term of the latest mastership it knows. Rules (docs/ha.md):
//  - startup: NOT_DEFINED. Hearing a MASTER -> BACKUP. Hearing an undecided peer -> the lower
//    node id becomes MASTER. Hearing nobody for the startup hold -> MASTER (a lone survivor must
//    serve; the reference stays NOT_DEFINED forever here).
//  - BACKUP: peer silent for the detect time -> MASTER with epoch = highest seen + 1.
//  - two MASTERs (partition healed, or simultaneous start): the higher epoch wins; on a tie the
//    lower node id. The loser steps down on its own as soon as it hears the winner.
//  - non-preemptive: a returning node hears a MASTER and becomes BACKUP, whatever its id.
//  - operator override (POST /config/cistate): MASTER takes over with a new epoch; BACKUP steps
//    down and advertises "yielding" so the peer takes over; a yielding node still takes over if
//    the peer dies (availability first).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ha/ci_state.h"

namespace floatlb::ha {

struct HaConfig {
  uint32_t node_id = 0;                                // --self
  Duration interval = std::chrono::milliseconds(100);  // heartbeat TX interval (--ka INTERVAL_US)
  uint32_t multiplier = 3;                             // missed heartbeats before the peer is dead
  [[nodiscard]] Duration detectTime() const { return interval * multiplier; }
  // How long a starting node listens before declaring itself the lone survivor.
  [[nodiscard]] Duration startupHold() const { return interval * (multiplier + 2); }
};

struct PeerView {
  uint32_t node_id = 0;
  CiState role = CiState::kNotDefined;
  uint64_t epoch = 0;
  bool yielding = false;  // operator forced it to BACKUP
};

struct Transition {
  CiState from;
  CiState to;
  uint64_t epoch;
  std::string reason;  // for logs and the failover timeline
};

class HaMachine {
 public:
  HaMachine(HaConfig cfg, TimePoint start);

  // A heartbeat arrived from the peer.
  std::optional<Transition> onHeartbeat(const PeerView& peer, TimePoint now);
  // Periodic evaluation (call at least every interval).
  std::optional<Transition> onTick(TimePoint now);
  // Operator override (cistate API). Only MASTER and BACKUP are meaningful; others are rejected
  // by the caller.
  std::optional<Transition> onAdmin(CiState wanted, TimePoint now);
  // The cloud hook found the peer holding the cloud resources (routed mode: the routes point at
  // its ENI) and stepped this node down: BACKUP, and no takeover on peer silence until the peer is
  // heard again. Without the hold, a partitioned old master re-elects itself within one detect
  // time and re-writes the routes: the flip-flop of fast-failover.md §5 (routed_failover.sh saw 26
  // ReplaceRoutes in 20 s). After the peer is heard, the normal rules apply again.
  std::optional<Transition> onCloudStepDown(TimePoint now, const std::string& reason);
  [[nodiscard]] bool heldUntilPeerHeard() const { return hold_until_heard_; }

  // The highest epoch this node knew before it restarted (persisted by the shell). Without it a
  // restarted node starts from 0 and, alone after a partition, takes over with epoch 1: equal to a
  // survivor's first term, so the lower node id would win the dual-MASTER tie and move the cloud
  // resources back a second time. Only ever raises the epoch.
  void restoreEpoch(uint64_t epoch) { epoch_ = std::max(epoch_, epoch); }

  // What to put into the next heartbeat.
  [[nodiscard]] PeerView self() const;
  [[nodiscard]] CiState role() const { return role_; }
  [[nodiscard]] uint64_t epoch() const { return epoch_; }
  [[nodiscard]] bool peerAlive(TimePoint now) const;
  [[nodiscard]] std::optional<TimePoint> lastHeard() const { return last_heard_; }
  [[nodiscard]] const std::optional<PeerView>& peer() const { return peer_; }

 private:
  std::optional<Transition> become(CiState to, uint64_t epoch, std::string reason);
  bool winsAgainst(const PeerView& p) const;
  bool electedAgainst(const PeerView& p) const;

  HaConfig cfg_;
  TimePoint start_;
  CiState role_ = CiState::kNotDefined;
  uint64_t epoch_ = 0;
  bool yielding_ = false;
  bool hold_until_heard_ = false;
  std::optional<PeerView> peer_;
  std::optional<TimePoint> last_heard_;
};

}  // namespace floatlb::ha
