// Typed read/steer views the REST API needs from services it does not own. The daemon implements
// them over the HA services and the cloud bridge; tests implement them as fakes
// (tests/support/api_fakes.h). JSON for these routes is rendered by the API codec from the typed
// snapshots, never assembled by the implementer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/json_codec.h"
#include "common/metrics.h"
#include "common/result.h"
#include "ha/ci_state.h"
#include "ha/heartbeat_service.h"
#include "ha/sync_service.h"

namespace floatlb::api {

// Heartbeat configuration and counters (present only when --ka runs).
struct BfdSnapshot {
  std::string instance;
  ha::KaConfig config;
  ha::HeartbeatStats stats;
};

// GET /config/ha/peers.
struct HaPeersSnapshot {
  std::string instance;
  ha::CiInstance self;
  std::optional<ha::HeartbeatStats> heartbeat;
  std::vector<ha::SyncPeerStats> sync;
  uint64_t takeovers_out_of_sync = 0;
};

class HaView {
 public:
  virtual ~HaView() = default;
  // nullopt without --ka: GET /config/bfd/all answers 500 "bfd session not running" (the reference).
  [[nodiscard]] virtual std::optional<BfdSnapshot> bfd() const = 0;
  // nullopt without --cluster/--ka: GET /config/ha/peers answers 404.
  [[nodiscard]] virtual std::optional<HaPeersSnapshot> peers() const = 0;
  // POST /config/cistate (with --ka the heartbeat machine decides for the default instance).
  virtual Status requestState(const CiStateRequest& request) = 0;
  virtual void appendMetrics(MetricsWriter& out) const = 0;
};

class CloudView {
 public:
  virtual ~CloudView() = default;
  // GET /config/cloud/timeline: the takeover timeline as the cloud module renders it ("{}" before
  // the first takeover).
  [[nodiscard]] virtual std::string timelineJson() const = 0;
  virtual void appendMetrics(MetricsWriter& out) const { (void)out; }
  // Transitional: the cloud hook still renders its own exposition text; /metrics appends it after
  // the writer's families until the hook gains appendMetrics (then this goes).
  [[nodiscard]] virtual std::string metricsText() const { return {}; }
};

}  // namespace floatlb::api
