#include "ha/machine.h"

#include <algorithm>

namespace floatlb::ha {

HaMachine::HaMachine(HaConfig cfg, TimePoint start) : cfg_(cfg), start_(start) {}

PeerView HaMachine::self() const { return PeerView{cfg_.node_id, role_, epoch_, yielding_}; }

bool HaMachine::peerAlive(TimePoint now) const {
  return last_heard_ && now - *last_heard_ <= cfg_.detectTime();
}

std::optional<Transition> HaMachine::become(CiState to, uint64_t epoch, std::string reason) {
  if (to == role_ && epoch == epoch_) return std::nullopt;
  Transition t{role_, to, epoch, std::move(reason)};
  role_ = to;
  epoch_ = epoch;
  if (to == CiState::kMaster) yielding_ = false;
  if (t.from == t.to) return std::nullopt;  // epoch bookkeeping only
  return t;
}

// Tie-break between two masters (or two candidates): higher epoch, then lower node id.
bool HaMachine::winsAgainst(const PeerView& p) const {
  if (epoch_ != p.epoch) return epoch_ > p.epoch;
  return cfg_.node_id < p.node_id;
}

// Election when nobody is master: a yielding node (operator said BACKUP) loses to one that is not;
// otherwise the lower node id wins.
bool HaMachine::electedAgainst(const PeerView& p) const {
  if (yielding_ != p.yielding) return p.yielding;
  return cfg_.node_id < p.node_id;
}

std::optional<Transition> HaMachine::onHeartbeat(const PeerView& peer, TimePoint now) {
  peer_ = peer;
  last_heard_ = now;
  hold_until_heard_ = false;
  const uint64_t highest = std::max(epoch_, peer.epoch);
  switch (role_) {
    case CiState::kMaster:
      if (peer.role == CiState::kMaster && !winsAgainst(peer)) {
        return become(
            CiState::kBackup, peer.epoch,
            "peer " + std::to_string(peer.node_id) + " is MASTER with epoch " + std::to_string(peer.epoch));
      }
      return std::nullopt;
    case CiState::kBackup:
      if (peer.role == CiState::kMaster) {
        epoch_ = std::max(epoch_, peer.epoch);
        return std::nullopt;
      }
      // Nobody is master while both of us are alive: elect. A yielding node lets the other win.
      if (electedAgainst(peer)) {
        return become(CiState::kMaster, highest + 1, "no MASTER among live nodes; elected");
      }
      return std::nullopt;
    default:  // NOT_DEFINED / FAULT / STOP: undecided
      if (peer.role == CiState::kMaster) {
        return become(CiState::kBackup, peer.epoch,
                      "peer " + std::to_string(peer.node_id) + " is already MASTER");
      }
      if (electedAgainst(peer)) {
        return become(CiState::kMaster, highest + 1, "initial election: lower node id");
      }
      return become(CiState::kBackup, highest, "initial election: peer has the lower node id");
  }
}

std::optional<Transition> HaMachine::onTick(TimePoint now) {
  const bool alive = peerAlive(now);
  const uint64_t highest = std::max(epoch_, peer_ ? peer_->epoch : 0);
  switch (role_) {
    case CiState::kMaster:
      return std::nullopt;
    case CiState::kBackup:
      if (!alive && !hold_until_heard_) {
        return become(CiState::kMaster, highest + 1,
                      "peer silent for " + std::to_string(cfg_.detectTime().count() / 1000000) + " ms");
      }
      return std::nullopt;
    default:
      if (!alive && now - start_ >= cfg_.startupHold()) {
        return become(CiState::kMaster, highest + 1, "no peer heard since start");
      }
      return std::nullopt;
  }
}

std::optional<Transition> HaMachine::onAdmin(CiState wanted, TimePoint /*now*/) {
  const uint64_t highest = std::max(epoch_, peer_ ? peer_->epoch : 0);
  if (wanted == CiState::kMaster) {
    yielding_ = false;
    if (role_ == CiState::kMaster) return std::nullopt;
    return become(CiState::kMaster, highest + 1, "operator set MASTER");
  }
  if (wanted == CiState::kBackup) {
    yielding_ = true;
    return become(CiState::kBackup, highest, "operator set BACKUP");
  }
  return std::nullopt;
}

std::optional<Transition> HaMachine::onCloudStepDown(TimePoint /*now*/, const std::string& reason) {
  // Only a MASTER is held. A verify cycle that started while this node was MASTER can report after
  // it already heard the peer and stepped down; holding a BACKUP then would, if a partition began
  // before the next heartbeat, keep it from ever taking over (seen in e2e_routed_failover).
  if (role_ != CiState::kMaster) return std::nullopt;
  const uint64_t highest = std::max(epoch_, peer_ ? peer_->epoch : 0);
  yielding_ = true;
  hold_until_heard_ = true;
  return become(CiState::kBackup, highest, "cloud step-down (" + reason + "); held until the peer is heard");
}

}  // namespace floatlb::ha
