// HaServices: the daemon's HA side as the REST API sees it (api::HaView). It owns nothing: the
// heartbeat (--ka) and the sync service (--cluster) are optional and owned by the Daemon. It
// counts takeovers that happened while this node was not in sync with its peer.
#pragma once

#include <atomic>
#include <cstdint>

#include "api/views.h"
#include "ha/ci_state.h"
#include "ha/heartbeat_service.h"
#include "ha/sync_service.h"

namespace floatlb::daemon {

class HaServices final : public api::HaView {
 public:
  HaServices(ha::CiStateTable& cistate, ha::HeartbeatService* heartbeat, ha::SyncService* sync)
      : cistate_(cistate), heartbeat_(heartbeat), sync_(sync) {}

  // Called by the state observer for every transition; true when it counted an out-of-sync takeover.
  bool noteTransition(const ha::CiInstance& ci, ha::CiState previous, bool in_sync);

  [[nodiscard]] std::optional<api::BfdSnapshot> bfd() const override;
  [[nodiscard]] std::optional<api::HaPeersSnapshot> peers() const override;
  Status requestState(const api::CiStateRequest& request) override;
  void appendMetrics(MetricsWriter& out) const override;

  [[nodiscard]] uint64_t takeoversOutOfSync() const { return takeovers_out_of_sync_.load(); }

 private:
  ha::CiStateTable& cistate_;
  ha::HeartbeatService* heartbeat_;
  ha::SyncService* sync_;
  std::atomic<uint64_t> takeovers_out_of_sync_{0};
};

}  // namespace floatlb::daemon
