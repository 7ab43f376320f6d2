#include "lb/rule_manager.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "common/log.h"

namespace floatlb::lb {

std::string ProbeKey::name() const { return ip.str() + "_" + type + "_" + std::to_string(port); }

RuleManager::RuleManager(dataplane::Datapath& dp, SourceAddressResolver& resolver, RuleStore* store,
                         ProbeTargetSink* probes)
    : dp_(dp), resolver_(resolver), store_(store), probes_(probes) {}

namespace {

bool sameOptions(const RuleSpec& a, const RuleSpec& b) {
  RuleSpec x = a, y = b;
  x.endpoints.clear();
  y.endpoints.clear();
  x.oper = y.oper = RuleOper::kCreate;
  return x == y;
}

std::optional<size_t> findEndpoint(const EndpointTable& t, const Endpoint& ep) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] && t[i]->ep.ip == ep.ip && t[i]->ep.target_port == ep.target_port) return i;
  }
  return std::nullopt;
}

void trim(EndpointTable& t) {
  while (!t.empty() && !t.back()) t.pop_back();
}

Status placeEndpoint(EndpointTable& t, const Endpoint& ep) {
  for (auto& slot : t) {
    if (!slot) {
      slot = IndexedEndpoint{ep, true};
      return okStatus();
    }
  }
  if (t.size() >= FLB_MAX_ENDPOINTS) {
    return makeError(ErrorCode::kInvalidArgument,
                     "too many endpoints (at most " + std::to_string(FLB_MAX_ENDPOINTS) + " per rule)");
  }
  t.push_back(IndexedEndpoint{ep, true});
  return okStatus();
}

std::vector<Endpoint> endpointsOf(const EndpointTable& t) {
  std::vector<Endpoint> out;
  for (const auto& e : t) {
    if (e) out.push_back(e->ep);
  }
  return out;
}

}  // namespace

bool RuleManager::endpointHealthy(const RuleSpec& spec, const Endpoint& ep) const {
  if (!spec.probesActive()) return true;
  auto it = health_.find(ProbeKey{ep.ip, spec.effectiveProbeType(), spec.effectiveProbePort(ep)});
  return it == health_.end() || it->second;
}

Result<RuleManager::RuleState> RuleManager::merged(const RuleState* existing, const RuleSpec& spec) const {
  RuleState st;
  if (existing == nullptr) {
    if (spec.oper == RuleOper::kDetach) {
      return makeError(ErrorCode::kNotFound, "rule " + spec.key.str() + " not found: nothing to detach from");
    }
    st.spec = spec;
    for (const auto& ep : spec.endpoints) FLB_TRY(placeEndpoint(st.eps, ep));
  } else {
    st.id = existing->id;
    st.eps = existing->eps;
    switch (spec.oper) {
      case RuleOper::kCreate: {
        std::set<std::pair<Ip4, uint16_t>> wanted;
        for (const auto& ep : spec.endpoints) wanted.insert({ep.ip, ep.target_port});
        for (auto& slot : st.eps) {
          if (slot && !wanted.count({slot->ep.ip, slot->ep.target_port})) slot.reset();
        }
        for (const auto& ep : spec.endpoints) {
          if (auto i = findEndpoint(st.eps, ep)) {
            st.eps[*i]->ep.weight = ep.weight;
          } else {
            FLB_TRY(placeEndpoint(st.eps, ep));
          }
        }
        st.spec = spec;
        break;
      }
      case RuleOper::kAttach:
        st.spec = existing->spec;
        for (const auto& ep : spec.endpoints) {
          if (auto i = findEndpoint(st.eps, ep)) {
            st.eps[*i]->ep.weight = ep.weight;
          } else {
            FLB_TRY(placeEndpoint(st.eps, ep));
          }
        }
        break;
      case RuleOper::kDetach: {
        st.spec = existing->spec;
        size_t matched = 0;
        for (const auto& ep : spec.endpoints) {
          if (auto i = findEndpoint(st.eps, ep)) {
            st.eps[*i].reset();
            ++matched;
          }
        }
        if (matched == 0) {
          return makeError(ErrorCode::kNotFound, "none of the listed endpoints is part of rule " + spec.key.str());
        }
        break;
      }
    }
    trim(st.eps);
    if (sameOptions(st.spec, existing->spec) && endpointsOf(st.eps) == endpointsOf(existing->eps)) {
      return makeError(ErrorCode::kAlreadyExists,
                       "lbrule-exists error: rule " + spec.key.str() + " already exists with this configuration");
    }
  }
  trim(st.eps);
  st.spec.oper = RuleOper::kCreate;
  st.spec.endpoints = endpointsOf(st.eps);
  for (auto& slot : st.eps) {
    if (slot) slot->healthy = endpointHealthy(st.spec, slot->ep);
  }
  return st;
}

Result<uint32_t> RuleManager::allocateId() const {
  std::vector<bool> used(FLB_MAX_RULES, false);
  for (const auto& [k, st] : rules_) used[st.id] = true;
  for (uint32_t id = 0; id < FLB_MAX_RULES; ++id) {
    if (!used[id]) return id;
  }
  return makeError(ErrorCode::kResourceExhausted, "no free rule id");
}

Status RuleManager::program(const RuleState& st, const RuleState* previous) {
  FLB_ASSIGN_OR_RETURN(flb_svc value, makeSvcValue(st.spec, st.id, st.eps, resolver_));
  const flb_svc_key key = makeSvcKey(st.spec);
  if (previous == nullptr) FLB_TRY(dp_.resetRuleCounters(st.id));
  FLB_TRY(dp_.upsertService(key, value));
  if (previous != nullptr) {
    flb_svc_key old = makeSvcKey(previous->spec);
    if (std::memcmp(&old, &key, sizeof key) != 0) {
      auto st_del = dp_.deleteService(old);
      if (!st_del.ok()) FLB_WARN("lb", "removing old datapath key of {}: {}", st.spec.key.str(), st_del.error().message);
    }
  }
  return okStatus();
}

std::vector<StoredRule> RuleManager::snapshotLocked() const {
  std::vector<StoredRule> out;
  for (const auto& [k, st] : rules_) out.push_back(StoredRule{st.id, st.spec});
  return out;
}

Status RuleManager::persist() {
  if (store_ == nullptr) return okStatus();
  return store_->save(snapshotLocked());
}

Status RuleManager::apply(const RuleSpec& spec) {
  FLB_TRY(validateRule(spec));
  std::lock_guard lock(mu_);
  auto it = rules_.find(spec.key);
  const RuleState* existing = it == rules_.end() ? nullptr : &it->second;
  if (existing == nullptr && rules_.size() >= kMaxRules) {
    return makeError(ErrorCode::kResourceExhausted,
                     "rule limit reached (" + std::to_string(kMaxRules) + " rules); delete a rule first");
  }
  FLB_ASSIGN_OR_RETURN(RuleState st, merged(existing, spec));

  if (st.eps.empty()) {  // detach removed the last endpoint: the rule goes away (as the reference)
    return removeLocked(it);
  }
  // Two rules must not claim the same datapath key (e.g. same privateIP:port with other EIPs).
  const flb_svc_key new_key = makeSvcKey(st.spec);
  for (const auto& [k, other] : rules_) {
    if (k == spec.key) continue;
    flb_svc_key ok = makeSvcKey(other.spec);
    if (std::memcmp(&ok, &new_key, sizeof ok) == 0) {
      return makeError(ErrorCode::kConflict, "rule " + spec.key.str() + " would use the same datapath address " +
                                                 st.spec.datapathVip().str() + " as rule " + k.str());
    }
  }
  if (existing == nullptr) {
    FLB_ASSIGN_OR_RETURN(st.id, allocateId());
  }

  std::optional<RuleState> previous;
  if (existing) previous = *existing;
  FLB_TRY(program(st, existing));
  rules_[spec.key] = st;
  if (auto s = persist(); !s.ok()) {
    // Roll back so the running state matches what is stored.
    if (previous) {
      (void)program(*previous, &st);
      rules_[spec.key] = *previous;
    } else {
      (void)dp_.deleteService(makeSvcKey(st.spec));
      rules_.erase(spec.key);
    }
    return s.error().wrap("saving rules");
  }
  FLB_INFO("lb", "{} rule {} (id {}, {} endpoints, mode {}, sel {})", existing ? "updated" : "created",
           spec.key.str(), st.id, endpointsOf(st.eps).size(), modeName(st.spec.mode), selName(st.spec.sel));
  publishProbeTargets();
  return okStatus();
}

Status RuleManager::removeLocked(std::map<ServiceKey, RuleState>::iterator it) {
  if (it == rules_.end()) return makeError(ErrorCode::kInternal, "removeLocked on end()");
  RuleState st = it->second;
  FLB_TRY(dp_.deleteService(makeSvcKey(st.spec)));
  rules_.erase(it);
  auto flushed = dp_.flushRule(st.id);
  if (!flushed.ok()) FLB_WARN("lb", "flushing conntrack of rule {}: {}", st.id, flushed.error().message);
  if (auto s = persist(); !s.ok()) {
    FLB_ERROR("lb", "rule {} removed but saving the rule file failed: {}", st.spec.key.str(), s.error().message);
    return s.error().wrap("saving rules");
  }
  FLB_INFO("lb", "deleted rule {} (id {}, {} connections flushed)", st.spec.key.str(), st.id,
           flushed.ok() ? *flushed : 0);
  publishProbeTargets();
  return okStatus();
}

Status RuleManager::remove(const ServiceKey& key) {
  std::lock_guard lock(mu_);
  auto it = rules_.find(key);
  if (it == rules_.end()) return makeError(ErrorCode::kNotFound, "rule " + key.str() + " not found");
  return removeLocked(it);
}

Result<size_t> RuleManager::removeByName(const std::string& name) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto it = rules_.begin(); it != rules_.end();) {
    auto next = std::next(it);
    if (it->second.spec.name == name) {
      FLB_TRY(removeLocked(it));
      ++n;
    }
    it = next;
  }
  if (n == 0) return makeError(ErrorCode::kNotFound, "no rule named '" + name + "'");
  return n;
}

Status RuleManager::removeAll() {
  std::lock_guard lock(mu_);
  while (!rules_.empty()) FLB_TRY(removeLocked(rules_.begin()));
  return okStatus();
}

Status RuleManager::restore(const std::vector<StoredRule>& stored) {
  std::lock_guard lock(mu_);
  std::set<uint32_t> ids;
  for (const auto& r : stored) {
    if (auto s = validateRule(r.spec); !s.ok()) return s.error().wrap("saved rule " + r.spec.key.str());
    if (r.rule_id >= FLB_MAX_RULES || !ids.insert(r.rule_id).second) {
      return makeError(ErrorCode::kInvalidArgument, "saved rule " + r.spec.key.str() + " has a bad or duplicate id");
    }
  }
  for (const auto& r : stored) {
    RuleState st;
    st.id = r.rule_id;
    st.spec = r.spec;
    for (const auto& ep : r.spec.endpoints) FLB_TRY(placeEndpoint(st.eps, ep));
    for (auto& slot : st.eps) {
      if (slot) slot->healthy = endpointHealthy(st.spec, slot->ep);
    }
    // Same id as before: a service already in the pinned map is replaced in place, so its
    // connections and counters carry on.
    FLB_ASSIGN_OR_RETURN(flb_svc value, makeSvcValue(st.spec, st.id, st.eps, resolver_));
    FLB_TRY(dp_.upsertService(makeSvcKey(st.spec), value));
    rules_[r.spec.key] = st;
  }
  // Services in the datapath that no saved rule explains are leftovers: remove them.
  if (auto listed = dp_.listServices(); listed.ok()) {
    for (const auto& [key, svc] : *listed) {
      bool known = false;
      for (const auto& [k, st] : rules_) {
        flb_svc_key mine = makeSvcKey(st.spec);
        if (std::memcmp(&mine, &key, sizeof key) == 0) known = true;
      }
      if (!known) {
        (void)dp_.deleteService(key);
        (void)dp_.flushRule(svc.rule_id);
      }
    }
  }
  FLB_INFO("lb", "restored {} rules", rules_.size());
  publishProbeTargets();
  return okStatus();
}

std::vector<ProbeConfig> RuleManager::probeTargets() const {
  std::map<ProbeKey, ProbeConfig> out;
  for (const auto& [k, st] : rules_) {
    if (!st.spec.probesActive()) continue;
    for (const auto& slot : st.eps) {
      if (!slot) continue;
      ProbeKey key{slot->ep.ip, st.spec.effectiveProbeType(), st.spec.effectiveProbePort(slot->ep)};
      ProbeConfig cfg{key, st.spec.effectiveProbeInterval(), st.spec.effectiveProbeRetries(), st.spec.probe.request,
                      st.spec.probe.response};
      auto [it, inserted] = out.emplace(key, cfg);
      if (!inserted) {  // shared endpoint: probe at the most demanding rule's pace
        it->second.interval_s = std::min(it->second.interval_s, cfg.interval_s);
        it->second.retries = std::min(it->second.retries, cfg.retries);
      }
    }
  }
  std::vector<ProbeConfig> v;
  for (auto& [k, c] : out) v.push_back(c);
  return v;
}

void RuleManager::publishProbeTargets() {
  if (probes_ != nullptr) probes_->setProbeTargets(probeTargets());
}

void RuleManager::setProbeResult(const ProbeKey& key, bool healthy) {
  std::lock_guard lock(mu_);
  auto prev = health_.find(key);
  bool was = prev == health_.end() || prev->second;
  health_[key] = healthy;
  if (was == healthy) return;
  FLB_INFO("lb", "endpoint {} is now {}", key.name(), healthy ? "healthy" : "DOWN");
  for (auto& [k, st] : rules_) {
    bool touched = false;
    for (auto& slot : st.eps) {
      if (!slot) continue;
      bool h = endpointHealthy(st.spec, slot->ep);
      if (h != slot->healthy) {
        slot->healthy = h;
        touched = true;
      }
    }
    if (touched) {
      auto s = program(st, &st);
      if (!s.ok()) FLB_ERROR("lb", "reprogramming {} after a health change: {}", k.str(), s.error().message);
    }
  }
}

std::vector<RuleStatus> RuleManager::list() {
  std::lock_guard lock(mu_);
  std::vector<RuleStatus> out;
  for (const auto& [k, st] : rules_) {
    RuleStatus rs{st.id, st.spec, {}};
    auto counters = dp_.endpointCounters(st.id);
    for (size_t i = 0; i < st.eps.size(); ++i) {
      if (!st.eps[i]) continue;
      EndpointStatus es{st.eps[i]->ep, static_cast<uint8_t>(i), st.eps[i]->healthy, 0, 0};
      if (counters.ok()) {
        es.packets = (*counters)[i].packets;
        es.bytes = (*counters)[i].bytes;
      }
      rs.endpoints.push_back(es);
    }
    out.push_back(std::move(rs));
  }
  return out;
}

std::optional<std::string> RuleManager::ruleName(uint32_t id) const {
  std::lock_guard lock(mu_);
  for (const auto& [k, st] : rules_) {
    if (st.id == id) return st.spec.name;
  }
  return std::nullopt;
}

std::optional<ServiceKey> RuleManager::ruleKey(uint32_t id) const {
  std::lock_guard lock(mu_);
  for (const auto& [k, st] : rules_) {
    if (st.id == id) return k;
  }
  return std::nullopt;
}

std::vector<std::pair<Ip4, std::string>> RuleManager::vipBindings() const {
  std::lock_guard lock(mu_);
  std::set<std::pair<Ip4, std::string>> out;
  for (const auto& [k, st] : rules_) out.insert({st.spec.datapathVip(), st.spec.haInstance()});
  return {out.begin(), out.end()};
}

size_t RuleManager::size() const {
  std::lock_guard lock(mu_);
  return rules_.size();
}

}  // namespace floatlb::lb
