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
  if (heartbeat_) {
    const auto st = heartbeat_->stats();
    w.family("floatlb_ha_heartbeats_sent_total", MetricType::kCounter, "Heartbeats sent to the peer.");
    w.family("floatlb_ha_heartbeats_received_total", MetricType::kCounter,
             "Heartbeats received from the peer.");
    w.family("floatlb_ha_heartbeats_rejected_total", MetricType::kCounter,
             "Heartbeats dropped (undecodable or wrongly signed).");
    w.family("floatlb_ha_peer_alive", MetricType::kGauge, "1 while the peer's heartbeats arrive.");
    w.family("floatlb_ha_epoch", MetricType::kGauge, "Election epoch of this node.");
    w.sample("floatlb_ha_heartbeats_sent_total", static_cast<double>(st.sent));
    w.sample("floatlb_ha_heartbeats_received_total", static_cast<double>(st.received));
    w.sample("floatlb_ha_heartbeats_rejected_total", static_cast<double>(st.rejected));
    w.sample("floatlb_ha_peer_alive", st.peer_alive ? 1 : 0);
    w.sample("floatlb_ha_epoch", static_cast<double>(st.epoch));
  }
  if (sync_) {
    w.family("floatlb_sync_entries_sent_total", MetricType::kCounter, "Conntrack entries sent to a peer.");
    w.family("floatlb_sync_entries_received_total", MetricType::kCounter,
             "Conntrack entries received from a peer.");
    w.family("floatlb_sync_in_sync", MetricType::kGauge, "1 when this node holds the peer's full state.");
    w.family("floatlb_sync_lag_ms", MetricType::kGauge, "Last sync PING/PONG round trip (ms, -1 unknown).");
    for (const auto& p : sync_->stats()) {
      const MetricLabels l = {{"peer", p.peer.str()}};
      w.sample("floatlb_sync_entries_sent_total", l, static_cast<double>(p.entries_sent));
      w.sample("floatlb_sync_entries_received_total", l, static_cast<double>(p.entries_received));
      w.sample("floatlb_sync_in_sync", l, p.in_sync ? 1 : 0);
      w.sample("floatlb_sync_lag_ms", l, static_cast<double>(p.lag_ms));
    }
  }
}

}  // namespace floatlb::daemon
