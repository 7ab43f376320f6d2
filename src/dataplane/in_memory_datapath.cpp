#include "dataplane/in_memory_datapath.h"

#include <algorithm>

#include "dataplane/aging.h"

namespace floatlb::dataplane {

Status InMemoryDatapath::upsertService(const flb_svc_key& key, const flb_svc& svc) {
  if (svc.rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  if (svc.n_eps > FLB_MAX_ENDPOINTS || svc.n_slots > FLB_MAX_SLOTS)
    return makeError(ErrorCode::kInvalidArgument, "too many endpoints or slots");
  if (services_.size() >= FLB_MAX_RULES && services_.count(key) == 0)
    return makeError(ErrorCode::kResourceExhausted, "service map full");
  services_[key] = svc;
  return okStatus();
}

Status InMemoryDatapath::deleteService(const flb_svc_key& key) {
  if (services_.erase(key) == 0) return makeError(ErrorCode::kNotFound, "service not found");
  return okStatus();
}

Result<std::vector<std::pair<flb_svc_key, flb_svc>>> InMemoryDatapath::listServices() {
  return std::vector<std::pair<flb_svc_key, flb_svc>>(services_.begin(), services_.end());
}

Result<std::vector<CtEntry>> InMemoryDatapath::dumpConntrack() {
  std::vector<CtEntry> out;
  out.reserve(ct_.size());
  for (const auto& [k, v] : ct_) out.push_back({k, v});
  return out;
}

Status InMemoryDatapath::insertConntrack(const CtEntry& entry) {
  flb_ct_value v = entry.value;
  v.flags |= FLB_CT_F_SYNCED;
  v.fib = flb_fib_cache{};  // the sender's forwarding decision is meaningless here
  ct_[entry.key] = v;
  return okStatus();
}

Status InMemoryDatapath::deleteConntrack(const flb_ct_key& key) {
  if (ct_.erase(key) == 0) return makeError(ErrorCode::kNotFound, "conntrack entry not found");
  return okStatus();
}

Result<size_t> InMemoryDatapath::flushRule(uint32_t rule_id) {
  FLB_ASSIGN_OR_RETURN(auto entries, dumpConntrack());
  size_t removed = 0;
  for (const auto& key : planFlushRule(entries, rule_id).remove) removed += ct_.erase(key);
  return removed;
}

Result<AgingResult> InMemoryDatapath::ageConntrack(TimePoint now) {
  FLB_ASSIGN_OR_RETURN(auto entries, dumpConntrack());
  AgingPlan plan = planAging(entries, now);
  AgingResult res;
  res.examined = plan.examined;
  for (const auto& key : plan.remove) res.removed += ct_.erase(key);
  return res;
}

void InMemoryDatapath::addEndpointTraffic(uint32_t rule_id, uint8_t ep_idx, uint64_t packets,
                                          uint64_t bytes) {
  if (ep_idx >= FLB_MAX_ENDPOINTS) return;
  auto& c = ep_counters_[rule_id][ep_idx];
  c.packets += packets;
  c.bytes += bytes;
}

Result<EndpointCounters> InMemoryDatapath::endpointCounters(uint32_t rule_id, uint32_t slots) {
  if (rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  auto it = ep_counters_.find(rule_id);
  EndpointCounters out{};
  if (it == ep_counters_.end()) return out;
  for (uint32_t i = 0; i < std::min<uint32_t>(slots, FLB_MAX_ENDPOINTS); ++i) out[i] = it->second[i];
  return out;
}

Status InMemoryDatapath::resetRuleCounters(uint32_t rule_id) {
  if (rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  ep_counters_.erase(rule_id);
  return okStatus();
}

Result<GlobalStats> InMemoryDatapath::globalStats() { return stats_; }

Result<size_t> InMemoryDatapath::pollEvents(const std::function<void(const flb_ct_event&)>& sink,
                                            int /*timeout_ms*/) {
  size_t n = 0;
  while (!events_.empty()) {
    flb_ct_event ev = events_.front();
    events_.pop_front();
    sink(ev);
    ++n;
  }
  return n;
}

}  // namespace floatlb::dataplane
