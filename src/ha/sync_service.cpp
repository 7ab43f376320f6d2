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

namespace floatlb::ha {

namespace {

struct KeyHash {
  size_t operator()(const flb_ct_key& k) const noexcept {
    uint64_t h =
        (uint64_t{k.saddr} << 32) ^ k.daddr ^ (uint64_t{k.sport} << 16) ^ (uint64_t{k.dport} << 40) ^ k.proto;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 33));
  }
};
struct KeyEq {
  bool operator()(const flb_ct_key& a, const flb_ct_key& b) const noexcept {
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
};

bool syncable(const flb_ct_value& v, uint8_t proto) {
  if (proto == IPPROTO_UDP) return v.state == FLB_CT_ST_EST;
  return v.state == FLB_CT_ST_EST || v.state == FLB_CT_ST_FIN_WAIT;
}

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
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = ip.networkOrder();
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
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
  std::unordered_map<flb_ct_key, flb_ct_value, KeyHash, KeyEq> pending_up;
  std::unordered_set<flb_ct_key, KeyHash, KeyEq> pending_del;
  SyncPeerStats stats;
};

SyncService::SyncService(SyncConfig cfg, dataplane::Datapath& dp, const CiStateTable& table,
                         std::string instance, const Clock& clock)
    : cfg_(std::move(cfg)), dp_(dp), table_(table), instance_(std::move(instance)), clock_(clock) {
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
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return makeError(ErrorCode::kIo, std::string("sync socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(cfg_.port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listen_fd_, 8) != 0) {
    int err = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    return makeError(ErrorCode::kUnavailable,
                     "sync: cannot listen on port " + std::to_string(cfg_.port) + ": " + std::strerror(err));
  }
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
    for (auto& t : receiver_threads_) t.join();
    receiver_threads_.clear();
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

// ---- receiving side (any role; in practice the BACKUP) ----

void SyncService::acceptLoop() {
  while (running_) {
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
    std::lock_guard lock(receivers_mu_);
    receiver_threads_.emplace_back([this, fd, ip] { receiveLoop(fd, ip); });
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

void SyncService::receiveLoop(int fd, Ip4 from) {
  Peer& peer = *peerFor(from);
  {
    std::lock_guard lock(peer.mu);
    peer.stats.receiving = true;
    peer.stats.in_sync = false;
  }
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
      auto msg = dec.next();
      if (!msg.ok()) {
        error = msg.error().message;
        break;
      }
      if (!msg->has_value()) break;
      auto& m = **msg;
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
          std::unordered_set<flb_ct_key, KeyHash, KeyEq> keep(full_keys->begin(), full_keys->end());
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
        if (auto s = sendAll(fd, encodeSync(SyncPong{p->seq}, cfg_.key)); !s.ok()) error = s.error().message;
      }
    }
  }
  ::close(fd);
  std::lock_guard lock(peer.mu);
  peer.stats.receiving = false;
  peer.stats.in_sync = false;
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
  std::unordered_map<flb_ct_key, uint64_t, KeyHash, KeyEq> sent;  // key -> last_seen_ns sent
  TimePoint next_refresh{}, ping_sent{};
  uint64_t ping_seq = 0;
  auto disconnect = [&](const std::string& why) {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
      FLB_WARN("ha", "sync: stopped sending to {}: {}", peer.ip.str(), why);
    }
    sent.clear();
    std::lock_guard lock(peer.mu);
    peer.stats.sending = false;
    peer.pending_up.clear();
    peer.pending_del.clear();
  };
  auto sendBatches = [&](const std::vector<dataplane::CtEntry>& entries) -> Status {
    for (size_t i = 0; i < entries.size(); i += 1024) {
      SyncUpsert u;
      u.entries.assign(entries.begin() + static_cast<long>(i),
                       entries.begin() + static_cast<long>(std::min(entries.size(), i + 1024)));
      FLB_TRY(sendAll(fd, encodeSync(u, cfg_.key)));
    }
    std::lock_guard lock(peer.mu);
    peer.stats.entries_sent += entries.size();
    return okStatus();
  };
  // Full state: everything established, as it is now.
  auto fullSync = [&]() -> Status {
    FLB_ASSIGN_OR_RETURN(auto all, dp_.dumpConntrack());
    std::vector<dataplane::CtEntry> entries;
    for (const auto& e : all) {
      if (syncable(e.value, e.key.proto)) entries.push_back(e);
    }
    FLB_TRY(sendAll(fd, encodeSync(SyncFullBegin{}, cfg_.key)));
    FLB_TRY(sendBatches(entries));
    FLB_TRY(sendAll(fd, encodeSync(SyncFullEnd{static_cast<uint32_t>(entries.size())}, cfg_.key)));
    sent.clear();
    for (const auto& e : entries) sent[e.key] = e.value.last_seen_ns;
    FLB_INFO("ha", "sync: full state sent to {} ({} entries)", peer.ip.str(), entries.size());
    return okStatus();
  };
  // Delta: entries new or used since last sent, and deletions of what disappeared.
  auto refresh = [&]() -> Status {
    FLB_ASSIGN_OR_RETURN(auto all, dp_.dumpConntrack());
    std::vector<dataplane::CtEntry> changed;
    std::unordered_set<flb_ct_key, KeyHash, KeyEq> present;
    for (const auto& e : all) {
      if (!syncable(e.value, e.key.proto)) continue;
      present.insert(e.key);
      auto it = sent.find(e.key);
      if (it == sent.end() || it->second != e.value.last_seen_ns) changed.push_back(e);
    }
    SyncDelete gone;
    for (auto it = sent.begin(); it != sent.end();) {
      if (!present.count(it->first)) {
        gone.keys.push_back(it->first);
        it = sent.erase(it);
      } else {
        ++it;
      }
    }
    FLB_TRY(sendBatches(changed));
    for (const auto& e : changed) sent[e.key] = e.value.last_seen_ns;
    for (size_t i = 0; i < gone.keys.size(); i += 1024) {
      SyncDelete d;
      d.keys.assign(gone.keys.begin() + static_cast<long>(i),
                    gone.keys.begin() + static_cast<long>(std::min(gone.keys.size(), i + 1024)));
      FLB_TRY(sendAll(fd, encodeSync(d, cfg_.key)));
    }
    return okStatus();
  };

  while (running_) {
    if (table_.state(instance_) != CiState::kMaster) {
      if (fd >= 0) disconnect("no longer MASTER");
      std::unique_lock lock(peer.mu);
      peer.cv.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    if (fd < 0) {
      auto c = connectTo(peer.ip, cfg_.port, 500);
      if (!c.ok()) {
        std::unique_lock lock(peer.mu);
        peer.cv.wait_for(lock, std::chrono::milliseconds(200));
        continue;
      }
      fd = *c;
      pongs = SyncDecoder(cfg_.key);
      {
        std::lock_guard lock(peer.mu);
        peer.stats.sending = true;  // from now on events are queued for this peer
      }
      SyncHello hello{cfg_.node_id, 0, CiState::kMaster};
      if (auto s = sendAll(fd, encodeSync(hello, cfg_.key)); !s.ok()) {
        disconnect(s.error().message);
        continue;
      }
      if (auto s = fullSync(); !s.ok()) {
        disconnect(s.error().message);
        continue;
      }
      next_refresh = clock_.now() + cfg_.refresh_interval;
    }
    // Stream what the event ring queued during the last window.
    {
      std::unique_lock lock(peer.mu);
      peer.cv.wait_for(lock, cfg_.batch_window);
    }
    SyncUpsert up;
    SyncDelete del;
    {
      std::lock_guard lock(peer.mu);
      for (auto& [k, v] : peer.pending_up) up.entries.push_back({k, v});
      del.keys.assign(peer.pending_del.begin(), peer.pending_del.end());
      peer.pending_up.clear();
      peer.pending_del.clear();
    }
    Status st;
    if (!up.entries.empty()) {
      st = sendBatches(up.entries);
      for (const auto& e : up.entries) sent[e.key] = e.value.last_seen_ns;
    }
    if (st.ok() && !del.keys.empty()) {
      for (const auto& k : del.keys) sent.erase(k);
      st = sendAll(fd, encodeSync(del, cfg_.key));
    }
    if (st.ok() && clock_.now() >= next_refresh) {
      st = refresh();
      next_refresh = clock_.now() + cfg_.refresh_interval;
      if (st.ok()) {
        ping_sent = clock_.now();
        st = sendAll(fd, encodeSync(SyncPing{++ping_seq}, cfg_.key));
      }
    }
    // Collect PONGs without blocking.
    char buf[256];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        if (n == 0) st = makeError(ErrorCode::kUnavailable, "peer closed the connection");
        break;
      }
      pongs.feed(std::string_view(buf, static_cast<size_t>(n)));
      while (auto m = pongs.next()) {
        if (!m.ok() || !m->has_value()) break;
        if (auto* p = std::get_if<SyncPong>(&**m); p && p->seq == ping_seq) {
          std::lock_guard lock(peer.mu);
          peer.stats.lag_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - ping_sent).count();
        }
      }
    }
    if (!st.ok()) disconnect(st.error().message);
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace floatlb::ha
