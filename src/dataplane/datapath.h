// The control plane's view of the eBPF datapath. Implemented by LibbpfDatapath (real maps and
// programs) and InMemoryDatapath (a fake for unit tests of the control plane). Everything above
// src/dataplane talks to this interface only; it never sees fds or void*.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "floatlb/abi.h"

namespace floatlb::dataplane {

struct CtEntry {
  flb_ct_key key;
  flb_ct_value value;
};

using GlobalStats = std::array<uint64_t, FLB_STAT_MAX>;
using EndpointCounters = std::array<flb_counter, FLB_MAX_ENDPOINTS>;  // summed over CPUs

// Names of enum flb_stat values for metrics ("ct_hit", "new_flow", ...).
const char* statName(flb_stat stat);

struct AgingResult {
  size_t examined = 0;
  size_t removed = 0;  // entries deleted (both directions count)
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // Services (rules). upsert replaces the value atomically for new flows; existing flows keep
  // their conntrack entries.
  virtual Status upsertService(const flb_svc_key& key, const flb_svc& svc) = 0;
  virtual Status deleteService(const flb_svc_key& key) = 0;
  virtual Result<std::vector<std::pair<flb_svc_key, flb_svc>>> listServices() = 0;

  // Conntrack.
  virtual Result<std::vector<CtEntry>> dumpConntrack() = 0;
  virtual Status insertConntrack(const CtEntry& entry) = 0;  // HA sync install
  // One entry by key. The default walks a full dump; implementations with a real map override it.
  virtual Result<std::optional<flb_ct_value>> lookupConntrack(const flb_ct_key& key) {
    FLB_ASSIGN_OR_RETURN(auto all, dumpConntrack());
    for (const auto& e : all) {
      if (std::memcmp(&e.key, &key, sizeof key) == 0) return std::optional<flb_ct_value>(e.value);
    }
    return std::optional<flb_ct_value>();
  }
  virtual Status deleteConntrack(const flb_ct_key& key) = 0;
  // Removes both entries of every connection of rule_id (rule deleted => stop forwarding).
  virtual Result<size_t> flushRule(uint32_t rule_id) = 0;
  // Deletes entries idle longer than their state's timeout (see docs/dataplane.md) and keeps the
  // least-connection counters right.
  virtual Result<AgingResult> ageConntrack(TimePoint now) = 0;

  // Routes or neighbours changed: every flow's cached forwarding decision (flb_ct_value.fib) is
  // dropped and looked up again on its next packet. Without a call, caches are re-validated
  // after FLB_FIB_REVALIDATE_NS anyway.
  virtual Status invalidateFibCache() = 0;

  // Counters.
  // Slots 0..slots-1 of the rule (the rest stay zero): one lookup per slot in use, not 32.
  virtual Result<EndpointCounters> endpointCounters(uint32_t rule_id, uint32_t slots) = 0;
  virtual Status resetRuleCounters(uint32_t rule_id) = 0;  // when a rule id is reused
  virtual Result<GlobalStats> globalStats() = 0;

  // Connection events from the ring buffer (new/established/closed). Calls `sink` for each
  // pending event; waits at most timeout_ms for the first one. Returns the number delivered.
  virtual Result<size_t> pollEvents(const std::function<void(const flb_ct_event&)>& sink, int timeout_ms) = 0;
};

}  // namespace floatlb::dataplane
