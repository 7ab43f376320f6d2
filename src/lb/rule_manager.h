// RuleManager: the rule table of one floatlb node. Applies REST semantics (create/modify with
// oper 0/1/2, identical re-create is a conflict, delete by key/name/all), keeps endpoint indexes
// stable, folds in endpoint health, programs the datapath, and persists through a RuleStore.
// Every mutation is all-or-nothing: if the datapath or the store refuses, the table is unchanged.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/datapath.h"
#include "lb/rule.h"
#include "lb/slots.h"

namespace floatlb::lb {

struct ProbeKey {
  Ip4 ip;
  std::string type;  // tcp, udp, http, https, ping
  uint16_t port = 0;
  auto operator<=>(const ProbeKey&) const = default;
  [[nodiscard]] std::string name() const;  // "<ip>_<type>_<port>" as the reference names endpoints
};

struct ProbeConfig {
  ProbeKey key;
  uint32_t interval_s = kDefaultProbeIntervalS;
  uint32_t retries = kDefaultProbeRetries;
  std::string request;
  std::string response;
  auto operator<=>(const ProbeConfig&) const = default;
};

// Receives the set of endpoints that must be probed after every change (declarative).
class ProbeTargetSink {
 public:
  virtual ~ProbeTargetSink() = default;
  virtual void setProbeTargets(const std::vector<ProbeConfig>& targets) = 0;
};

struct StoredRule {
  uint32_t rule_id = 0;
  RuleSpec spec;  // oper == kCreate, endpoints in index order (gaps dropped)
};

class RuleStore {
 public:
  virtual ~RuleStore() = default;
  virtual Status save(const std::vector<StoredRule>& rules) = 0;
};

struct EndpointStatus {
  Endpoint ep;
  uint8_t index = 0;
  bool healthy = true;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct RuleStatus {
  uint32_t rule_id = 0;
  RuleSpec spec;
  std::vector<EndpointStatus> endpoints;
};

class RuleManager {
 public:
  RuleManager(dataplane::Datapath& dp, SourceAddressResolver& resolver, RuleStore* store = nullptr,
              ProbeTargetSink* probes = nullptr);

  // POST /config/loadbalancer. kAlreadyExists for an identical re-create.
  Status apply(const RuleSpec& spec);
  Status remove(const ServiceKey& key);
  Result<size_t> removeByName(const std::string& name);  // kNotFound when nothing matched
  Status removeAll();

  // Rules saved by a previous run. Reuses their rule ids so conntrack entries in pinned maps stay
  // valid, and removes services found in the datapath that no saved rule explains.
  Status restore(const std::vector<StoredRule>& rules);

  // Health probe verdict for an endpoint (from src/health).
  void setProbeResult(const ProbeKey& key, bool healthy);

  [[nodiscard]] std::vector<RuleStatus> list();  // sorted by service key, with counters
  [[nodiscard]] std::optional<std::string> ruleName(uint32_t rule_id) const;
  [[nodiscard]] std::optional<ServiceKey> ruleKey(uint32_t rule_id) const;
  [[nodiscard]] size_t size() const;
  // Every datapath VIP with the HA instance that owns it (for VIP claim/release).
  [[nodiscard]] std::vector<std::pair<Ip4, std::string>> vipBindings() const;

 private:
  struct RuleState {
    uint32_t id = 0;
    RuleSpec spec;  // endpoints field unused: the table below is authoritative
    EndpointTable eps;
  };

  Result<RuleState> merged(const RuleState* existing, const RuleSpec& spec) const;
  Status program(const RuleState& st, const RuleState* previous);
  Status persist();
  std::vector<ProbeConfig> probeTargets() const;
  void publishProbeTargets();
  bool endpointHealthy(const RuleSpec& spec, const Endpoint& ep) const;
  Result<uint32_t> allocateId() const;
  Status removeLocked(std::map<ServiceKey, RuleState>::iterator it);
  std::vector<StoredRule> snapshotLocked() const;

  dataplane::Datapath& dp_;
  SourceAddressResolver& resolver_;
  RuleStore* store_;
  ProbeTargetSink* probes_;
  mutable std::mutex mu_;
  std::map<ServiceKey, RuleState> rules_;
  std::map<ProbeKey, bool> health_;  // absent = healthy (optimistic until a probe says otherwise)
};

}  // namespace floatlb::lb
