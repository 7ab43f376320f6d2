// RuleManager: the rule table of one floatlb node. Applies REST semantics (create/modify with
// oper 0/1/2, identical re-create is a conflict, delete by key/name/all), keeps endpoint indexes
// stable, folds in endpoint health, programs the datapath, and persists through a RuleStore.
// Every mutation is all-or-nothing: if the datapath or the store refuses, the table is unchanged.
// A change is applied and programmed under the lock, queued to the store, and acknowledged (the
// call returns) only once the store says it is durable; if that fails, every change not yet
// durable is undone in reverse order. No call copies the whole table: create/update/delete cost
// O(log n) plus the store's sync.
#pragma once

#include <array>
#include <deque>
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

// One change to the stored table: the rule with this id is written (spec set) or gone.
struct RuleChange {
  uint32_t rule_id = 0;
  std::optional<RuleSpec> spec;
};

// Where the rule table is persisted, change by change. enqueue() is cheap and is called under the
// RuleManager's lock, so the stored order is the table's order; waitDurable() blocks (without the
// lock) until the change is durable, so concurrent changes can share one sync (group commit).
class RuleStore {
 public:
  virtual ~RuleStore() = default;
  virtual Result<uint64_t> enqueue(std::vector<RuleChange> changes) = 0;
  virtual Status waitDurable(uint64_t ticket) = 0;
  Status commit(std::vector<RuleChange> changes) {
    FLB_ASSIGN_OR_RETURN(uint64_t t, enqueue(std::move(changes)));
    return waitDurable(t);
  }
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

  using DpKey = std::array<uint8_t, sizeof(flb_svc_key)>;
  // A change not yet durable: how to put the table back if the store fails.
  struct Undo {
    uint64_t ticket = 0;
    ServiceKey key;
    std::optional<RuleState> before;  // empty: the change created the rule
    std::optional<RuleState> after;   // empty: the change removed it
  };

  Result<RuleState> merged(const RuleState* existing, const RuleSpec& spec) const;
  Status program(const RuleState& st, const RuleState* previous);
  std::vector<ProbeConfig> probeTargets() const;
  void publishProbeTargets();
  bool endpointHealthy(const RuleSpec& spec, const Endpoint& ep) const;
  Result<uint32_t> allocateId() const;
  // The table and its indexes change only through these two.
  void setRule(const ServiceKey& key, RuleState st);
  void dropRule(std::map<ServiceKey, RuleState>::iterator it);
  // Queues the change (table already updated) and records its undo; returns the ticket (0: no store).
  Result<uint64_t> queueLocked(const ServiceKey& key, std::optional<RuleState> before,
                               const RuleState* after);
  Result<uint64_t> removeLocked(std::map<ServiceKey, RuleState>::iterator it);
  // Waits (unlocked) for `ticket`; on failure undoes every change not yet durable.
  Status awaitDurable(uint64_t ticket);
  void rollbackLocked();

  dataplane::Datapath& dp_;
  SourceAddressResolver& resolver_;
  RuleStore* store_;
  ProbeTargetSink* probes_;
  mutable std::mutex mu_;
  std::map<ServiceKey, RuleState> rules_;
  std::map<DpKey, ServiceKey> by_dp_key_;  // which rule owns each datapath key
  std::vector<bool> used_ids_;             // FLB_MAX_RULES entries
  std::deque<Undo> undo_;                  // ticket order
  uint64_t last_queued_ = 0;               // the newest ticket
  uint64_t published_upto_ = 0;            // last_queued_ when the probes were last told
  bool probes_stale_ = true;               // a rule with probes changed since they were told
  std::map<ProbeKey, bool> health_;        // absent = healthy (optimistic until a probe says otherwise)
};

}  // namespace floatlb::lb
