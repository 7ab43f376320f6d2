#include "daemon/ha_view.h"

#include "common/log.h"
#include "lb/rule.h"

namespace floatlb::daemon {

bool HaServices::noteTransition(const ha::CiInstance& ci, ha::CiState previous, bool in_sync) {
  if (ci.state != ha::CiState::kMaster || previous == ha::CiState::kMaster ||
      previous == ha::CiState::kNotDefined || in_sync) {
    return false;
  }
  ++takeovers_out_of_sync_;
  FLB_WARN("ha",
           "{} took over while NOT in sync with its peer: connections opened since the last sync are lost",
           ci.name);
  return true;
}

std::optional<api::BfdSnapshot> HaServices::bfd() const {
  if (!heartbeat_) return std::nullopt;
  return api::BfdSnapshot{lb::kDefaultHaInstance, heartbeat_->config(), heartbeat_->stats()};
}

std::optional<api::HaPeersSnapshot> HaServices::peers() const {
  if (!heartbeat_ && !sync_) return std::nullopt;
  api::HaPeersSnapshot out;
  out.instance = lb::kDefaultHaInstance;
  for (const auto& ci : cistate_.all()) {
    if (ci.name == lb::kDefaultHaInstance) out.self = ci;
  }
  if (heartbeat_) out.heartbeat = heartbeat_->stats();
  if (sync_) out.sync = sync_->stats();
  out.takeovers_out_of_sync = takeovers_out_of_sync_.load();
  return out;
}

Status HaServices::requestState(const api::CiStateRequest& req) {
  if (!heartbeat_ || req.instance != lb::kDefaultHaInstance) {
    auto r = cistate_.set(req.instance, req.state, req.vip);
    return r.ok() ? okStatus() : Status(r.error());
  }
  if (req.state != ha::CiState::kMaster && req.state != ha::CiState::kBackup) {
    return makeError(ErrorCode::kInvalidArgument, "with --ka only MASTER or BACKUP can be requested");
  }
  heartbeat_->adminSet(req.state);
  return okStatus();
}

void HaServices::appendMetrics(MetricsWriter& w) const {
  w.family("floatlb_ha_takeovers_out_of_sync_total", MetricType::kCounter,
           "Takeovers while not in sync with the peer.");
  w.sample("floatlb_ha_takeovers_out_of_sync_total", static_cast<double>(takeovers_out_of_sync_.load()));
  // The services write their own families (heartbeats incl. replay rejects, sync per peer).
  if (heartbeat_) heartbeat_->appendMetrics(w);
  if (sync_) sync_->appendMetrics(w);
}

}  // namespace floatlb::daemon
