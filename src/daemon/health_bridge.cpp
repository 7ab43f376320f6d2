#include "daemon/health_bridge.h"

#include "common/log.h"

namespace floatlb::daemon {

HealthBridge::HealthBridge(const Clock& clock) {
  runner_ = std::make_unique<health::ProbeRunner>(clock, prober_, [this](const health::Transition& t) {
    if (rules_ == nullptr) return;
    rules_->setProbeResult(lb::ProbeKey{t.key.ip, health::probeTypeName(t.key.type), t.key.port}, t.healthy);
  });
}

HealthBridge::~HealthBridge() { stop(); }

void HealthBridge::start() { runner_->start(); }
void HealthBridge::stop() { runner_->stop(); }

Result<health::TargetKey> HealthBridge::toTarget(const lb::ProbeKey& key) {
  FLB_ASSIGN_OR_RETURN(health::ProbeType type, health::parseProbeType(key.type));
  return health::TargetKey{key.ip, type, key.port};
}

void HealthBridge::addRef(const lb::ProbeConfig& cfg) {
  auto target = toTarget(cfg.key);
  if (!target.ok()) {
    FLB_WARN("health", "cannot probe {}: {}", cfg.key.name(), target.error().message);
    return;
  }
  health::TargetConfig tc;
  tc.interval = std::chrono::seconds(cfg.interval_s);
  tc.retries = cfg.retries;
  tc.request = cfg.request;
  tc.timeout = std::min<Duration>(std::chrono::seconds(1), tc.interval);
  if (!runner_->addTarget(*target, tc)) {  // already probed for another owner: tighten the pace
    (void)runner_->setInterval(*target, tc.interval);
    (void)runner_->setRetries(*target, tc.retries);
  }
}

void HealthBridge::dropRef(const lb::ProbeKey& key) {
  if (auto target = toTarget(key); target.ok()) runner_->removeTarget(*target);
}

void HealthBridge::setProbeTargets(const std::vector<lb::ProbeConfig>& targets) {
  std::lock_guard lock(mu_);
  std::map<lb::ProbeKey, lb::ProbeConfig> next;
  for (const auto& t : targets) next[t.key] = t;
  for (const auto& [key, cfg] : from_rules_) {
    if (!next.count(key)) dropRef(key);
  }
  for (const auto& [key, cfg] : next) {
    auto it = from_rules_.find(key);
    if (it == from_rules_.end()) {
      addRef(cfg);
    } else if (it->second != cfg) {
      if (auto target = toTarget(key); target.ok()) {
        (void)runner_->setInterval(*target, std::chrono::seconds(cfg.interval_s));
        (void)runner_->setRetries(*target, cfg.retries);
      }
    }
  }
  from_rules_ = std::move(next);
}

std::vector<api::EndpointRow> HealthBridge::rows() {
  std::vector<api::EndpointRow> out;
  for (const auto& s : runner_->snapshot()) {
    api::EndpointRow r;
    r.host = s.key.ip.str();
    r.name = s.name;
    r.probe_type = health::probeTypeName(s.key.type);
    r.probe_req = s.request;
    r.probe_port = s.key.port;
    r.probe_duration =
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(s.interval).count());
    r.retries = s.retries;
    r.min_delay = s.min_rtt ? health::goDurationString(*s.min_rtt) : "";
    r.avg_delay = s.avg_rtt ? health::goDurationString(*s.avg_rtt) : "";
    r.max_delay = s.max_rtt ? health::goDurationString(*s.max_rtt) : "";
    r.state = s.healthy ? "ok" : "nok";
    out.push_back(std::move(r));
  }
  return out;
}

Status HealthBridge::addManual(const lb::ProbeConfig& cfg) {
  FLB_TRY(toTarget(cfg.key));
  std::lock_guard lock(mu_);
  auto it = manual_.find(cfg.key);
  if (it != manual_.end()) {
    if (it->second == cfg) {
      return makeError(ErrorCode::kAlreadyExists, "endpoint " + cfg.key.name() + " already exists");
    }
    dropRef(cfg.key);
  }
  manual_[cfg.key] = cfg;
  addRef(cfg);
  return okStatus();
}

Status HealthBridge::removeManual(Ip4 ip, const std::string& type, uint16_t port) {
  std::lock_guard lock(mu_);
  lb::ProbeKey key{ip, type, port};
  auto it = manual_.find(key);
  if (it == manual_.end()) return makeError(ErrorCode::kNotFound, "endpoint " + key.name() + " not found");
  manual_.erase(it);
  dropRef(key);
  return okStatus();
}

}  // namespace floatlb::daemon
