// A fake Datapath over std::maps for control-plane unit tests. It stores what it is told and
// ages/flushes with the same pure planner as the real datapath; it never selects endpoints or
// sees packets. Tests inject traffic effects with the add*/push* helpers.
#pragma once

#include <cstring>
#include <deque>
#include <map>

#include "dataplane/datapath.h"

namespace floatlb::dataplane {

template <class T>
struct BytewiseLess {
  bool operator()(const T& a, const T& b) const { return std::memcmp(&a, &b, sizeof(T)) < 0; }
};

class InMemoryDatapath final : public Datapath {
 public:
  Status upsertService(const flb_svc_key& key, const flb_svc& svc) override;
  Status deleteService(const flb_svc_key& key) override;
  Result<std::vector<std::pair<flb_svc_key, flb_svc>>> listServices() override;

  Result<std::vector<CtEntry>> dumpConntrack() override;
  Status insertConntrack(const CtEntry& entry) override;
  Status deleteConntrack(const flb_ct_key& key) override;
  Result<size_t> flushRule(uint32_t rule_id) override;
  Result<AgingResult> ageConntrack(TimePoint now) override;
  Status invalidateFibCache() override {
    ++fib_invalidations_;
    return okStatus();
  }

  Result<EndpointCounters> endpointCounters(uint32_t rule_id, uint32_t slots) override;
  Status resetRuleCounters(uint32_t rule_id) override;
  Result<GlobalStats> globalStats() override;
  Result<size_t> pollEvents(const std::function<void(const flb_ct_event&)>& sink, int timeout_ms) override;

  // Test helpers: what the datapath would have done on traffic.
  void addConntrack(const CtEntry& entry) { ct_[entry.key] = entry.value; }  // not marked SYNCED
  void addEndpointTraffic(uint32_t rule_id, uint8_t ep_idx, uint64_t packets, uint64_t bytes);
  void addStat(flb_stat stat, uint64_t n) { stats_[stat] += n; }
  void pushEvent(const flb_ct_event& ev) { events_.push_back(ev); }
  uint64_t fibInvalidations() const { return fib_invalidations_; }

 private:
  std::map<flb_svc_key, flb_svc, BytewiseLess<flb_svc_key>> services_;
  std::map<flb_ct_key, flb_ct_value, BytewiseLess<flb_ct_key>> ct_;
  std::map<uint32_t, EndpointCounters> ep_counters_;
  GlobalStats stats_{};
  std::deque<flb_ct_event> events_;
  uint64_t fib_invalidations_ = 0;
};

}  // namespace floatlb::dataplane
