// Connects the rule table to src/health: the probe targets the rules need (declarative sets from
// RuleManager) plus endpoints added by hand through the API become ProbeRunner targets, and
// every health transition goes back into RuleManager.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "api/server.h"
#include "health/runner.h"
#include "health/system_prober.h"
#include "lb/rule_manager.h"

namespace floatlb::daemon {

class HealthBridge final : public lb::ProbeTargetSink, public api::EndpointHealthApi {
 public:
  explicit HealthBridge(const Clock& clock);
  ~HealthBridge() override;

  // Must be called before start(): where transitions go.
  void connect(lb::RuleManager* rules) { rules_ = rules; }
  void start();
  void stop();

  void setProbeTargets(const std::vector<lb::ProbeConfig>& targets) override;
  std::vector<api::EndpointRow> rows() override;
  Status addManual(const lb::ProbeConfig& cfg) override;
  Status removeManual(Ip4 ip, const std::string& type, uint16_t port) override;

 private:
  static Result<health::TargetKey> toTarget(const lb::ProbeKey& key);
  void addRef(const lb::ProbeConfig& cfg);
  void dropRef(const lb::ProbeKey& key);

  health::SystemProber prober_;
  std::unique_ptr<health::ProbeRunner> runner_;
  lb::RuleManager* rules_ = nullptr;
  std::mutex mu_;
  std::map<lb::ProbeKey, lb::ProbeConfig> from_rules_;
  std::map<lb::ProbeKey, lb::ProbeConfig> manual_;
};

}  // namespace floatlb::daemon
