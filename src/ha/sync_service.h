// Connection sync between HA peers (TCP 22222, protocol in sync_codec.h, docs/ha.md).
// The MASTER streams established connections to every peer: a full sync when a peer connects,
// then new/closed connections from the datapath's event ring within ~50 ms, plus a refresh pass
// every 2 s (keeps the replicas fresh so they do not age out, and catches anything missed).
// The BACKUP installs what it receives into its own conntrack map (rule ids translated through
// the service key), so the first packet after a failover hits the fast path.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/net.h"
#include "dataplane/datapath.h"
#include "ha/ci_state.h"
#include "ha/replay.h"
#include "ha/sync_codec.h"

namespace floatlb::ha {

struct SyncConfig {
  std::vector<Ip4> peers;
  uint32_t node_id = 0;
  uint16_t port = kSyncPort;
  Ip4 listen;         // local address to listen on; 0.0.0.0 = any
  std::string key;    // shared HMAC key; empty = unauthenticated (logged at start)
  uint64_t boot = 0;  // replay stamp boot epoch; 0 = processBootEpoch()
  Duration batch_window = std::chrono::milliseconds(50);
  Duration refresh_interval = std::chrono::seconds(2);
};

struct SyncPeerStats {
  Ip4 peer;
  bool sending = false;    // we are MASTER and connected to it
  bool receiving = false;  // it is connected to us
  bool in_sync = false;    // we hold its full state (received FULL_END on the live connection)
  uint64_t entries_sent = 0;
  uint64_t entries_received = 0;
  uint64_t entries_skipped = 0;  // no matching local rule
  int64_t lag_ms = -1;           // last PING/PONG round trip
  int64_t last_rx_wall_ms = 0;
  uint64_t replays_rejected = 0;  // frames from it whose stamp was not newer (replay.h)
};

class SyncService {
 public:
  SyncService(SyncConfig cfg, dataplane::Datapath& dp, const CiStateTable& table, std::string instance,
              const Clock& clock);
  ~SyncService();

  Status start();
  void stop();
  [[nodiscard]] std::vector<SyncPeerStats> stats() const;
  // True when a peer's full state has been received on a live connection.
  [[nodiscard]] bool inSync() const;
  // Receiver threads not yet reaped (one per live inbound connection, plus any that ended within
  // the last accept-poll interval): bounded however many times the peer reconnected.
  [[nodiscard]] size_t receiverThreads();
  // floatlb_sync_* families, one sample per peer (label peer).
  void appendMetrics(MetricsWriter& w) const;

 private:
  struct Peer;
  void acceptLoop();
  void receiveLoop(int fd, Ip4 from);
  void reapReceivers();  // joins receiver threads whose connection ended
  void senderLoop(size_t peer_index);
  void eventLoop();
  Status applyUpsert(const SyncUpsert& u, Peer& peer, std::vector<flb_ct_key>* full_keys);
  Result<uint32_t> localRuleId(const flb_svc_key& svc, bool refresh);
  Peer* peerFor(Ip4 ip);
  bool acceptStamp(Peer& peer, ReplayGuard& guard, const SyncStamp& st, const char* what);

  SyncConfig cfg_;
  dataplane::Datapath& dp_;
  const CiStateTable& table_;
  std::string instance_;
  const Clock& clock_;
  std::atomic<bool> running_{false};
  int listen_fd_ = -1;
  std::thread accept_thread_, event_thread_;
  std::vector<std::thread> sender_threads_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::mutex receivers_mu_;
  struct Receiver {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  // One per inbound connection; a peer reconnects after every failover, so finished ones are
  // joined as they end (an unjoined thread keeps its stack: ~20 kB of RSS per failover).
  std::vector<Receiver> receivers_;
  std::mutex rules_mu_;
  std::map<std::tuple<uint32_t, uint16_t, uint8_t, uint32_t>, uint32_t> rule_ids_;
};

}  // namespace floatlb::ha
