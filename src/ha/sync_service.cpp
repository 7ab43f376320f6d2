#include "ha/sync_service.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <set>

#include "common/log.h"
#include "common/socket.h"
#include "ha/sync_planner.h"

namespace floatlb::ha {

namespace {

Status sendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return makeError(ErrorCode::kUnavailable, std::string("sync send: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return okStatus();
}

Result<int> connectTo(Ip4 ip, uint16_t port, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  const sockaddr_in sa = sockAddr(ip, port);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, std::string("connect: ") + std::strerror(err));
  }
  pollfd p{fd, POLLOUT, 0};
  if (rc != 0 && ::poll(&p, 1, timeout_ms) != 1) {
    ::close(fd);
    return makeError(ErrorCode::kTimeout, "connect timed out");
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, std::string("connect: ") + std::strerror(err));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

struct SyncService::Peer {
  Ip4 ip;
  std::mutex mu;
  std::condition_variable cv;
  // Pending changes from the event ring (MASTER side), coalesced per key.
  std::unordered_map<flb_ct_key, flb_ct_value, CtKeyHash, CtKeyEq> pending_up;
  std::unordered_set<flb_ct_key, CtKeyHash, CtKeyEq> pending_del;
  SyncPeerStats stats;
  ReplayGuard rx_guard;    // data frames from this peer (any of its connections to us)
  uint64_t reply_seq = 0;  // PONGs we send to this peer
};

SyncService::SyncService(SyncConfig cfg, dataplane::Datapath& dp, const CiStateTable& table,
                         std::string instance, const Clock& clock)
    : cfg_(std::move(cfg)), dp_(dp), table_(table), instance_(std::move(instance)), clock_(clock) {
  if (cfg_.boot == 0) cfg_.boot = processBootEpoch();
  for (Ip4 ip : cfg_.peers) {
    auto p = std::make_unique<Peer>();
    p->ip = ip;
    p->stats.peer = ip;
    peers_.push_back(std::move(p));
  }
}

SyncService::~SyncService() { stop(); }

SyncService::Peer* SyncService::peerFor(Ip4 ip) {
  for (auto& p : peers_) {
    if (p->ip == ip) return p.get();
  }
  return nullptr;
}

Status SyncService::start() {
  FLB_ASSIGN_OR_RETURN(listen_fd_, bindSocket(SOCK_STREAM, cfg_.listen, cfg_.port, "sync", 8));
  if (cfg_.key.empty()) FLB_WARN("ha", "connection sync is NOT authenticated (no shared key configured)");
  running_ = true;
  accept_thread_ = std::thread([this] { acceptLoop(); });
  event_thread_ = std::thread([this] { eventLoop(); });
  for (size_t i = 0; i < peers_.size(); ++i) sender_threads_.emplace_back([this, i] { senderLoop(i); });
  FLB_INFO("ha", "connection sync on TCP {} with {} peer(s)", cfg_.port, peers_.size());
  return okStatus();
}

void SyncService::stop() {
  if (!running_.exchange(false)) return;
  for (auto& p : peers_) p->cv.notify_all();
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (event_thread_.joinable()) event_thread_.join();
  for (auto& t : sender_threads_) t.join();
  sender_threads_.clear();
  {
    std::lock_guard lock(receivers_mu_);
    for (auto& r : receivers_) r.thread.join();
    receivers_.clear();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::vector<SyncPeerStats> SyncService::stats() const {
  std::vector<SyncPeerStats> out;
  for (const auto& p : peers_) {
    std::lock_guard lock(p->mu);
    out.push_back(p->stats);
  }
  return out;
}

bool SyncService::inSync() const {
  for (const auto& p : peers_) {
    std::lock_guard lock(p->mu);
    if (p->stats.in_sync) return true;
  }
  return false;
}

void SyncService::appendMetrics(MetricsWriter& w) const {
  w.family("floatlb_sync_entries_sent_total", MetricType::kCounter, "Connection entries sent to the peer.");
  w.family("floatlb_sync_entries_received_total", MetricType::kCounter,
           "Connection entries received from the peer and installed.");
  w.family("floatlb_sync_in_sync", MetricType::kGauge,
           "1 when the peer's full state was received on a live connection.");
  w.family("floatlb_sync_lag_ms", MetricType::kGauge,
           "Last PING/PONG round trip to the peer (-1: none yet).");
  w.family("floatlb_sync_replays_rejected_total", MetricType::kCounter,
           "Sync frames from the peer rejected because their stamp was not newer (replays).");
  for (const auto& p : stats()) {
    const MetricLabels l{{"peer", p.peer.str()}};
    w.sample("floatlb_sync_entries_sent_total", l, static_cast<double>(p.entries_sent));
    w.sample("floatlb_sync_entries_received_total", l, static_cast<double>(p.entries_received));
    w.sample("floatlb_sync_in_sync", l, p.in_sync ? 1 : 0);
    w.sample("floatlb_sync_lag_ms", l, static_cast<double>(p.lag_ms));
    w.sample("floatlb_sync_replays_rejected_total", l, static_cast<double>(p.replays_rejected));
  }
}

// ---- receiving side (any role; in practice the BACKUP) ----

void SyncService::reapReceivers() {
  std::lock_guard lock(receivers_mu_);
  std::erase_if(receivers_, [](Receiver& r) {
    if (!r.done->load()) return false;
    r.thread.join();
    return true;
  });
}

size_t SyncService::receiverThreads() {
  std::lock_guard lock(receivers_mu_);
  return receivers_.size();
}

void SyncService::acceptLoop() {
  while (running_) {
    reapReceivers();
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Ip4 ip = Ip4::fromNetwork(from.sin_addr.s_addr);
    if (peerFor(ip) == nullptr) {
      FLB_WARN("ha", "sync: refusing connection from {} (not in --cluster)", ip.str());
      ::close(fd);
      continue;
    }
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(receivers_mu_);
    receivers_.push_back({std::thread([this, fd, ip, done] {
                            receiveLoop(fd, ip);
                            done->store(true);
                          }),
                          done});
  }
}

Result<uint32_t> SyncService::localRuleId(const flb_svc_key& svc, bool refresh) {
  std::lock_guard lock(rules_mu_);
  auto k = std::make_tuple(svc.vip, svc.port, svc.proto, svc.block);
  if (!refresh) {
    if (auto it = rule_ids_.find(k); it != rule_ids_.end()) return it->second;
  }
  FLB_ASSIGN_OR_RETURN(auto services, dp_.listServices());
  rule_ids_.clear();
  for (const auto& [key, value] : services)
    rule_ids_[std::make_tuple(key.vip, key.port, key.proto, key.block)] = value.rule_id;
  if (auto it = rule_ids_.find(k); it != rule_ids_.end()) return it->second;
  return makeError(ErrorCode::kNotFound, "no local rule for the connection's service");
}

Status SyncService::applyUpsert(const SyncUpsert& u, Peer& peer, std::vector<flb_ct_key>* full_keys) {
  const uint64_t now = toNanos(clock_.now());
  uint64_t installed = 0, skipped = 0;
  for (auto e : u.entries) {
    auto id = localRuleId(e.value.svc, false);
    if (!id.ok()) id = localRuleId(e.value.svc, true);
    if (!id.ok()) {
      ++skipped;
      continue;
    }
    // The datapath maps the entry to the local rule id/endpoint index and marks it SYNCED
    // (Datapath::insertConntrack); here we only decide whether this node serves the service.
    e.value.created_ns = now;  // the sender's monotonic clock means nothing here
    e.value.last_seen_ns = now;
    if (auto s = dp_.insertConntrack(e); !s.ok()) return s;
    if (full_keys) full_keys->push_back(e.key);
    ++installed;
  }
  std::lock_guard lock(peer.mu);
  peer.stats.entries_received += installed;
  peer.stats.entries_skipped += skipped;
  peer.stats.last_rx_wall_ms = clock_.wallMillis();
  return okStatus();
}

// True when the frame's stamp is newer than what `peer` sent before; counts and logs (once per
// burst) a replay otherwise. Caller holds peer.mu.
bool SyncService::acceptStamp(Peer& peer, ReplayGuard& guard, const SyncStamp& st, const char* what) {
  auto out = guard.check(st.stamp, clock_.now(), std::string(what) + " from " + peer.ip.str());
  if (out.log) FLB_WARN("ha", "sync: {}", *out.log);
  if (!out.accepted()) ++peer.stats.replays_rejected;
  return out.accepted();
}

void SyncService::receiveLoop(int fd, Ip4 from) {
  Peer& peer = *peerFor(from);
  FLB_INFO("ha", "sync: peer {} connected", from.str());
  SyncDecoder dec(cfg_.key);
  bool hello = false;
  std::optional<std::vector<flb_ct_key>> full_keys;
  std::string error;
  char buf[65536];
  while (running_ && error.empty()) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      error = "connection closed";
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      error = std::strerror(errno);
      break;
    }
    dec.feed(std::string_view(buf, static_cast<size_t>(n)));
    for (;;) {
      auto frame = dec.next();
      if (!frame.ok()) {
        error = frame.error().message;
        break;
      }
      if (!frame->has_value()) break;
      if ((*frame)->stamp.reply) {
        error = "reply frame on a connection the peer opened";
        break;
      }
      {
        std::lock_guard lock(peer.mu);
        if (!acceptStamp(peer, peer.rx_guard, (*frame)->stamp, "sync frame")) {
          error = "replayed frame";  // a replayed stream: drop the connection, keep what we hold
          break;
        }
      }
      auto& m = (*frame)->msg;
      if (!hello && !std::holds_alternative<SyncHello>(m)) {
        error = "first frame is not HELLO";
        break;
      }
      if (auto* h = std::get_if<SyncHello>(&m)) {
        if (h->abi_version != FLB_ABI_VERSION || h->entry_size != sizeof(flb_ct_key) + sizeof(flb_ct_value)) {
          error = "peer runs datapath ABI " + std::to_string(h->abi_version) + ", we run " +
                  std::to_string(FLB_ABI_VERSION);
          break;
        }
        hello = true;
        std::lock_guard lock(peer.mu);
        peer.stats.receiving = true;
        peer.stats.in_sync = false;
      } else if (std::holds_alternative<SyncFullBegin>(m)) {
        full_keys.emplace();
      } else if (auto* u = std::get_if<SyncUpsert>(&m)) {
        if (auto s = applyUpsert(*u, peer, full_keys ? &*full_keys : nullptr); !s.ok()) {
          FLB_WARN("ha", "sync: installing entries from {}: {}", from.str(), s.error().message);
        }
      } else if (auto* d = std::get_if<SyncDelete>(&m)) {
        for (const auto& k : d->keys) (void)dp_.deleteConntrack(k);
      } else if (auto* e = std::get_if<SyncFullEnd>(&m)) {
        // Replicas the master no longer has are stale: drop them.
        size_t dropped = 0;
        if (full_keys) {
          std::unordered_set<flb_ct_key, CtKeyHash, CtKeyEq> keep(full_keys->begin(), full_keys->end());
          if (auto all = dp_.dumpConntrack(); all.ok()) {
            for (const auto& ce : *all) {
              if ((ce.value.flags & FLB_CT_F_SYNCED) && !keep.count(ce.key)) {
                (void)dp_.deleteConntrack(ce.key);
                ++dropped;
              }
            }
          }
        }
        full_keys.reset();
        std::lock_guard lock(peer.mu);
        peer.stats.in_sync = true;
        FLB_INFO("ha", "sync: full state from {} received ({} entries sent, {} stale replicas dropped)",
                 from.str(), e->count, dropped);
      } else if (auto* p = std::get_if<SyncPing>(&m)) {
        SyncStamp st{Stamp{cfg_.boot, 0}, true};
        {
          std::lock_guard lock(peer.mu);
          st.stamp.seq = ++peer.reply_seq;
        }
        if (auto s = sendAll(fd, encodeSync(SyncPong{p->seq}, cfg_.key, st)); !s.ok())
          error = s.error().message;
      }
    }
  }
  ::close(fd);
  if (hello) {
    std::lock_guard lock(peer.mu);
    peer.stats.receiving = false;
    peer.stats.in_sync = false;
  }
  if (running_) FLB_WARN("ha", "sync: connection from {} ended: {}", from.str(), error);
}

// ---- sending side (MASTER) ----

void SyncService::eventLoop() {
  while (running_) {
    const bool master = table_.state(instance_) == CiState::kMaster;
    auto delivered = dp_.pollEvents(
        [&](const flb_ct_event& ev) {
          if (!master) return;  // drain the ring; nothing to send as BACKUP
          std::vector<dataplane::CtEntry> up;
          std::vector<flb_ct_key> del;
          if (ev.type == FLB_EV_CT_EST) {
            up.push_back({ev.key, ev.value});
            if (auto rev = dp_.lookupConntrack(ev.value.peer); rev.ok() && rev->has_value()) {
              up.push_back({ev.value.peer, **rev});
            }
          } else if (ev.type == FLB_EV_CT_CLOSED) {
            del = {ev.key, ev.value.peer};
          } else {
            return;
          }
          for (auto& p : peers_) {
            std::lock_guard lock(p->mu);
            if (!p->stats.sending) continue;
            for (const auto& e : up) {
              p->pending_del.erase(e.key);
              p->pending_up[e.key] = e.value;
            }
            for (const auto& k : del) {
              p->pending_up.erase(k);
              p->pending_del.insert(k);
            }
          }
        },
        100);
    if (!delivered.ok()) {
      FLB_WARN("ha", "sync: reading datapath events: {}", delivered.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void SyncService::senderLoop(size_t index) {
  Peer& peer = *peers_[index];
  int fd = -1;
  SyncDecoder pongs(cfg_.key);
  SyncPlanner planner(cfg_.refresh_interval);
  ReplayGuard reply_guard;  // PONGs from this peer, across our connections to it
  uint64_t tx_seq = 0;      // data frames to this peer, across connections (the replay stamp)
  TimePoint ping_sent{};
  auto disconnect = [&](const std::string& why) {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
      FLB_WARN("ha", "sync: stopped sending to {}: {}", peer.ip.str(), why);
    }
    planner.disconnected();
    std::lock_guard lock(peer.mu);
    peer.stats.sending = false;
    peer.pending_up.clear();
    peer.pending_del.clear();
  };
  auto send = [&](const SyncMessage& m) {
    if (std::holds_alternative<SyncPing>(m)) ping_sent = clock_.now();
    return sendAll(fd, encodeSync(m, cfg_.key, SyncStamp{Stamp{cfg_.boot, ++tx_seq}, false}));
  };
  auto sendPlan = [&](const std::vector<SyncMessage>& plan) -> Status {
    for (const auto& m : plan) FLB_TRY(send(m));
    std::lock_guard lock(peer.mu);
    peer.stats.entries_sent += upsertCount(plan);
    return okStatus();
  };
  auto connect = [&]() -> Status {
    FLB_ASSIGN_OR_RETURN(fd, connectTo(peer.ip, cfg_.port, 500));
    pongs = SyncDecoder(cfg_.key);
    {
      std::lock_guard lock(peer.mu);
      peer.stats.sending = true;  // from now on events are queued for this peer
    }
    FLB_TRY(send(SyncHello{cfg_.node_id, 0, CiState::kMaster}));
    FLB_ASSIGN_OR_RETURN(auto all, dp_.dumpConntrack());
    auto plan = planner.connected(all, clock_.now());
    FLB_TRY(sendPlan(plan));
    FLB_INFO("ha", "sync: full state sent to {} ({} entries)", peer.ip.str(), upsertCount(plan));
    return okStatus();
  };
  // One batch window: what the event ring queued, plus the refresh pass when it is due.
  auto tick = [&]() -> Status {
    SyncPending pending;
    {
      std::lock_guard lock(peer.mu);
      for (auto& [k, v] : peer.pending_up) pending.upserts.push_back({k, v});
      pending.deletes.assign(peer.pending_del.begin(), peer.pending_del.end());
      peer.pending_up.clear();
      peer.pending_del.clear();
    }
    std::optional<std::vector<dataplane::CtEntry>> dump;
    if (planner.refreshDue(clock_.now())) {
      FLB_ASSIGN_OR_RETURN(dump, dp_.dumpConntrack());
    }
    return sendPlan(planner.tick(pending, dump ? &*dump : nullptr, clock_.now()));
  };
  // PONGs, without blocking.
  auto collectPongs = [&]() -> Status {
    char buf[256];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return makeError(ErrorCode::kUnavailable, "peer closed the connection");
      if (n < 0) return okStatus();
      pongs.feed(std::string_view(buf, static_cast<size_t>(n)));
      for (;;) {
        auto f = pongs.next();
        if (!f.ok()) return f.error();
        if (!f->has_value()) break;
        std::lock_guard lock(peer.mu);
        if (!(*f)->stamp.reply || !acceptStamp(peer, reply_guard, (*f)->stamp, "sync reply")) continue;
        if (auto* p = std::get_if<SyncPong>(&(*f)->msg); p && p->seq == planner.pingSeq()) {
          peer.stats.lag_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - ping_sent).count();
        }
      }
    }
  };

  while (running_) {
    if (table_.state(instance_) != CiState::kMaster) {
      if (fd >= 0) disconnect("no longer MASTER");
      std::unique_lock lock(peer.mu);
      peer.cv.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    if (fd < 0) {
      if (auto s = connect(); !s.ok()) {
        if (fd >= 0) {
          disconnect(s.error().message);
        } else {
          std::unique_lock lock(peer.mu);
          peer.cv.wait_for(lock, std::chrono::milliseconds(200));
        }
        continue;
      }
    }
    {
      std::unique_lock lock(peer.mu);
      peer.cv.wait_for(lock, cfg_.batch_window);
    }
    Status st = tick();
    if (st.ok()) st = collectPongs();
    if (!st.ok()) disconnect(st.error().message);
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace floatlb::ha
