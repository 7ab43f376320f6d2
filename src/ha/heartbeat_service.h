// The built-in role decider (--ka): sends heartbeats to the peer over UDP 3784, feeds received
// ones and a periodic tick into HaMachine, and publishes every transition to the CiStateTable.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/net.h"
#include "common/result.h"
#include "ha/ci_state.h"
#include "ha/machine.h"
#include "ha/replay.h"

namespace floatlb::ha {

struct KaConfig {
  Ip4 remote;
  Ip4 source;  // 0.0.0.0 = any
  uint32_t interval_us = 100000;
  uint32_t multiplier = 3;
  uint16_t port = 3784;
  std::string key;    // shared HMAC key; empty = unauthenticated (logged at start)
  uint64_t boot = 0;  // replay stamp boot epoch; 0 = processBootEpoch()
  // Where the highest known HA epoch survives a restart (the daemon: <config-path>/ha.epoch);
  // empty = not persisted. Written (atomically, fsynced) before a transition is published.
  std::string epoch_file;
};

// "REMOTE[:SOURCE[:INTERVAL_US]]" as the reference's --ka; the interval is honoured.
Result<KaConfig> parseKa(const std::string& text);

struct HeartbeatStats {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t rejected = 0;       // undecodable or wrongly signed
  uint64_t replayed = 0;       // authentic but not newer than the peer's last (replay.h)
  uint64_t peer_restarts = 0;  // the peer's boot epoch grew
  int64_t last_rx_wall_ms = 0;
  std::string peer_state = "unknown";
  uint64_t peer_epoch = 0;
  uint64_t epoch = 0;
  std::string role = "NOT_DEFINED";
  bool peer_alive = false;
};

class HeartbeatService {
 public:
  HeartbeatService(KaConfig cfg, uint32_t node_id, std::string instance, CiStateTable& table,
                   const Clock& clock);
  ~HeartbeatService();

  Status start();
  void stop();
  // Operator override through the REST API: routed into the machine so the peers agree.
  void adminSet(CiState state);
  // The cloud hook stepped this node down (HaMachine::onCloudStepDown: held until the peer is heard).
  void cloudStepDown(const std::string& reason);
  [[nodiscard]] HeartbeatStats stats() const;
  // floatlb_ha_heartbeats_*, floatlb_ha_peer_alive, floatlb_ha_epoch.
  void appendMetrics(MetricsWriter& w) const;
  [[nodiscard]] const KaConfig& config() const { return cfg_; }

 private:
  void loop();
  // Persists the machine's epoch if it grew, then publishes the transition (if any).
  void apply(const std::optional<Transition>& t, uint64_t epoch);
  void persistEpoch(uint64_t epoch);
  void receive(std::string_view bytes);

  KaConfig cfg_;
  std::string instance_;
  CiStateTable& table_;
  const Clock& clock_;
  mutable std::mutex mu_;
  HaMachine machine_;
  HeartbeatStats stats_;
  ReplayGuard guard_;
  int fd_ = -1;
  std::atomic<bool> running_{false};
  std::thread thread_;
  uint64_t seq_ = 0;
  uint64_t persisted_epoch_ = 0;  // what epoch_file holds (guarded by persist_mu_)
  std::mutex persist_mu_;
};

}  // namespace floatlb::ha
