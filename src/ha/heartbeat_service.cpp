#include "ha/heartbeat_service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/file.h"
#include "common/log.h"
#include "common/socket.h"
#include "ha/heartbeat.h"

namespace floatlb::ha {

Result<KaConfig> parseKa(const std::string& text) {
  KaConfig c;
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3)
    return makeError(ErrorCode::kInvalidArgument, "--ka: expected REMOTE[:SOURCE[:INTERVAL_US]]");
  auto remote = Ip4::parse(parts[0]);
  if (!remote) return makeError(ErrorCode::kInvalidArgument, "--ka: bad remote address '" + parts[0] + "'");
  c.remote = *remote;
  if (parts.size() > 1 && !parts[1].empty()) {
    auto src = Ip4::parse(parts[1]);
    if (!src) return makeError(ErrorCode::kInvalidArgument, "--ka: bad source address '" + parts[1] + "'");
    c.source = *src;
  }
  if (parts.size() > 2) {
    uint32_t us = 0;
    auto [p, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), us);
    if (ec != std::errc() || p != parts[2].data() + parts[2].size() || us < 10000 || us > 10000000) {
      return makeError(ErrorCode::kInvalidArgument,
                       "--ka: interval must be 10000..10000000 microseconds, got '" + parts[2] + "'");
    }
    c.interval_us = us;
  }
  return c;
}

HeartbeatService::HeartbeatService(KaConfig cfg, uint32_t node_id, std::string instance, CiStateTable& table,
                                   const Clock& clock)
    : cfg_(std::move(cfg)),
      instance_(std::move(instance)),
      table_(table),
      clock_(clock),
      machine_(HaConfig{node_id, std::chrono::microseconds(cfg_.interval_us), cfg_.multiplier}, clock.now()) {
  if (cfg_.boot == 0) cfg_.boot = processBootEpoch();
  if (cfg_.epoch_file.empty()) return;
  auto saved = readFileIfExists(cfg_.epoch_file);
  if (!saved.ok()) {
    FLB_WARN("ha", "cannot read the saved HA epoch ({}); starting from 0", saved.error().message);
    return;
  }
  if (!*saved) return;
  uint64_t epoch = 0;
  const std::string& text = **saved;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
  if (ec != std::errc() || (end != text.data() + text.size() && *end != '\n')) {
    FLB_WARN("ha", "{}: not an epoch ({:?}); starting from 0", cfg_.epoch_file, text.substr(0, 40));
    return;
  }
  machine_.restoreEpoch(epoch);
  persisted_epoch_ = epoch;
  FLB_INFO("ha", "resuming from HA epoch {} ({})", epoch, cfg_.epoch_file);
}

HeartbeatService::~HeartbeatService() { stop(); }

Status HeartbeatService::start() {
  FLB_ASSIGN_OR_RETURN(fd_, bindSocket(SOCK_DGRAM | SOCK_NONBLOCK, cfg_.source, cfg_.port, "heartbeat"));
  if (cfg_.key.empty()) {
    FLB_WARN("ha",
             "heartbeats are NOT authenticated (no shared key configured): any host that can reach UDP {} "
             "can influence the election",
             cfg_.port);
  }
  FLB_INFO("ha", "heartbeats to {}:{} every {} us, dead after {} missed", cfg_.remote.str(), cfg_.port,
           cfg_.interval_us, cfg_.multiplier);
  running_ = true;
  thread_ = std::thread([this] { loop(); });
  return okStatus();
}

void HeartbeatService::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HeartbeatService::persistEpoch(uint64_t epoch) {
  if (cfg_.epoch_file.empty()) return;
  std::lock_guard lock(persist_mu_);
  if (epoch <= persisted_epoch_) return;
  // Availability first: a node that cannot persist still serves; it only loses the restart guard.
  if (auto s = writeFileAtomic(cfg_.epoch_file, std::to_string(epoch) + "\n"); !s.ok()) {
    FLB_WARN("ha", "cannot save HA epoch {}: {}", epoch, s.error().message);
    return;
  }
  persisted_epoch_ = epoch;
}

void HeartbeatService::apply(const std::optional<Transition>& t, uint64_t epoch) {
  persistEpoch(epoch);
  if (!t) return;
  FLB_INFO("ha", "{}: {} -> {} (epoch {}): {}", instance_, ciStateName(t->from), ciStateName(t->to), t->epoch,
           t->reason);
  (void)table_.set(instance_, t->to, Ip4(), "epoch " + std::to_string(t->epoch) + ": " + t->reason);
}

void HeartbeatService::adminSet(CiState state) {
  std::optional<Transition> t;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    t = machine_.onAdmin(state, clock_.now());
    epoch = machine_.epoch();
  }
  apply(t, epoch);
}

void HeartbeatService::cloudStepDown(const std::string& reason) {
  std::optional<Transition> t;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    t = machine_.onCloudStepDown(clock_.now(), reason);
    epoch = machine_.epoch();
  }
  apply(t, epoch);
}

HeartbeatStats HeartbeatService::stats() const {
  std::lock_guard lock(mu_);
  HeartbeatStats s = stats_;
  s.role = ciStateName(machine_.role());
  s.epoch = machine_.epoch();
  s.peer_alive = machine_.peerAlive(clock_.now());
  if (machine_.peer()) {
    s.peer_state = ciStateName(machine_.peer()->role);
    s.peer_epoch = machine_.peer()->epoch;
  }
  return s;
}

void HeartbeatService::receive(std::string_view bytes) {
  auto hb = decodeHeartbeat(bytes, cfg_.key);
  std::optional<Transition> t;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    if (!hb) {
      ++stats_.rejected;
      if (stats_.rejected % 100 == 1)
        FLB_WARN("ha", "rejected heartbeat from {}: {}", cfg_.remote.str(), hb.error().message);
      return;
    }
    auto verdict = guard_.check(hb->stamp(), clock_.now(), "heartbeat from " + cfg_.remote.str());
    if (verdict.log) FLB_WARN("ha", "{}", *verdict.log);
    if (!verdict.accepted()) {
      ++stats_.replayed;
      return;
    }
    if (verdict.verdict == ReplayGuard::Verdict::kRestarted) {
      ++stats_.peer_restarts;
      FLB_INFO("ha", "peer {} restarted (new boot epoch {})", cfg_.remote.str(), hb->boot);
    }
    ++stats_.received;
    stats_.last_rx_wall_ms = clock_.wallMillis();
    t = machine_.onHeartbeat(hb->view, clock_.now());
    epoch = machine_.epoch();
  }
  apply(t, epoch);
}

void HeartbeatService::appendMetrics(MetricsWriter& w) const {
  const auto s = stats();
  w.family("floatlb_ha_heartbeats_sent_total", MetricType::kCounter, "Heartbeats sent to the peer.");
  w.family("floatlb_ha_heartbeats_received_total", MetricType::kCounter,
           "Heartbeats from the peer accepted.");
  w.family("floatlb_ha_heartbeats_rejected_total", MetricType::kCounter,
           "Heartbeats from the peer rejected as undecodable or wrongly signed.");
  w.family("floatlb_ha_heartbeats_replayed_total", MetricType::kCounter,
           "Authentic heartbeats rejected because they were not newer than the peer's last (replays).");
  w.family("floatlb_ha_peer_restarts_total", MetricType::kCounter,
           "Times the peer's boot epoch grew (it restarted).");
  w.family("floatlb_ha_peer_alive", MetricType::kGauge, "1 while the peer's heartbeats arrive.");
  w.family("floatlb_ha_epoch", MetricType::kGauge, "Term of the latest mastership this node knows.");
  w.sample("floatlb_ha_heartbeats_sent_total", static_cast<double>(s.sent));
  w.sample("floatlb_ha_heartbeats_received_total", static_cast<double>(s.received));
  w.sample("floatlb_ha_heartbeats_rejected_total", static_cast<double>(s.rejected));
  w.sample("floatlb_ha_heartbeats_replayed_total", static_cast<double>(s.replayed));
  w.sample("floatlb_ha_peer_restarts_total", static_cast<double>(s.peer_restarts));
  w.sample("floatlb_ha_peer_alive", s.peer_alive ? 1 : 0);
  w.sample("floatlb_ha_epoch", static_cast<double>(s.epoch));
}

void HeartbeatService::loop() {
  const auto interval = std::chrono::microseconds(cfg_.interval_us);
  auto next_tx = clock_.now();
  sockaddr_in peer = sockAddr(cfg_.remote, cfg_.port);
  // Ticks run at a tenth of the interval so detection is late by at most that much.
  const auto tick = std::max<Duration>(interval / 10, std::chrono::milliseconds(1));
  while (running_) {
    const auto now = clock_.now();
    if (now >= next_tx) {
      Heartbeat hb;
      {
        std::lock_guard lock(mu_);
        hb.view = machine_.self();
        hb.seq = ++seq_;
        hb.boot = cfg_.boot;
      }
      hb.interval_us = cfg_.interval_us;
      hb.multiplier = static_cast<uint8_t>(cfg_.multiplier);
      auto bytes = encodeHeartbeat(hb, cfg_.key);
      if (::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer) >=
          0) {
        std::lock_guard lock(mu_);
        ++stats_.sent;
      }
      next_tx = now + interval;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const auto wait = std::min<Duration>(tick, next_tx - clock_.now());
    ::poll(&pfd, 1,
           static_cast<int>(
               std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count())));
    char buf[128];
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    for (;;) {
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) break;
      if (from.sin_addr.s_addr != cfg_.remote.networkOrder()) continue;  // only our configured peer
      receive(std::string_view(buf, static_cast<size_t>(n)));
    }
    std::optional<Transition> t;
    uint64_t epoch = 0;
    {
      std::lock_guard lock(mu_);
      t = machine_.onTick(clock_.now());
      epoch = machine_.epoch();
    }
    apply(t, epoch);
  }
}

}  // namespace floatlb::ha
