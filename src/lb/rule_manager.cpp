#include "lb/rule_manager.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "common/log.h"

namespace floatlb::lb {

std::string ProbeKey::name() const { return ip.str() + "_" + type + "_" + std::to_string(port); }

RuleManager::RuleManager(dataplane::Datapath& dp, SourceAddressResolver& resolver, RuleStore* store,
                         ProbeTargetSink* probes)
    : dp_(dp), resolver_(resolver), store_(store), probes_(probes), used_ids_(FLB_MAX_RULES, false) {}

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
          return makeError(ErrorCode::kNotFound,
                           "none of the listed endpoints is part of rule " + spec.key.str());
        }
        break;
      }
    }
    trim(st.eps);
    if (sameOptions(st.spec, existing->spec) && endpointsOf(st.eps) == endpointsOf(existing->eps)) {
      return makeError(ErrorCode::kAlreadyExists, "lbrule-exists error: rule " + spec.key.str() +
                                                      " already exists with this configuration");
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
  for (uint32_t id = 0; id < FLB_MAX_RULES; ++id) {
    if (!used_ids_[id]) return id;
  }
  return makeError(ErrorCode::kResourceExhausted, "no free rule id");
}

namespace {

std::array<uint8_t, sizeof(flb_svc_key)> dpKeyOf(const RuleSpec& spec) {
  const flb_svc_key k = makeSvcKey(spec);
  std::array<uint8_t, sizeof(flb_svc_key)> out{};
  std::memcpy(out.data(), &k, sizeof k);
  return out;
}

}  // namespace

void RuleManager::setRule(const ServiceKey& key, RuleState st) {
  probes_stale_ = probes_stale_ || st.spec.probesActive();
  if (auto it = rules_.find(key); it != rules_.end()) {
    probes_stale_ = probes_stale_ || it->second.spec.probesActive();
    auto owner = by_dp_key_.find(dpKeyOf(it->second.spec));
    if (owner != by_dp_key_.end() && owner->second == key) by_dp_key_.erase(owner);
    used_ids_[it->second.id] = false;
  }
  by_dp_key_[dpKeyOf(st.spec)] = key;
  used_ids_[st.id] = true;
  rules_.insert_or_assign(key, std::move(st));
}

void RuleManager::dropRule(std::map<ServiceKey, RuleState>::iterator it) {
  probes_stale_ = probes_stale_ || it->second.spec.probesActive();
  auto owner = by_dp_key_.find(dpKeyOf(it->second.spec));
  if (owner != by_dp_key_.end() && owner->second == it->first) by_dp_key_.erase(owner);
  used_ids_[it->second.id] = false;
  rules_.erase(it);
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
      if (!st_del.ok())
        FLB_WARN("lb", "removing old datapath key of {}: {}", st.spec.key.str(), st_del.error().message);
    }
  }
  return okStatus();
}

Result<uint64_t> RuleManager::queueLocked(const ServiceKey& key, std::optional<RuleState> before,
                                          const RuleState* after) {
  if (store_ == nullptr) return uint64_t{0};
  RuleChange change;
  change.rule_id = after ? after->id : before->id;
  if (after) change.spec = after->spec;
  std::vector<RuleChange> changes{std::move(change)};
  FLB_ASSIGN_OR_RETURN(uint64_t ticket, store_->enqueue(std::move(changes)));
  last_queued_ = ticket;
  undo_.push_back(
      Undo{ticket, key, std::move(before), after ? std::optional<RuleState>(*after) : std::nullopt});
  return ticket;
}

void RuleManager::rollbackLocked() {
  for (auto u = undo_.rbegin(); u != undo_.rend(); ++u) {
    Status s = okStatus();
    if (u->before) {
      s = program(*u->before, u->after ? &*u->after : nullptr);
      setRule(u->key, *u->before);
    } else if (auto it = rules_.find(u->key); it != rules_.end()) {
      s = dp_.deleteService(makeSvcKey(it->second.spec));
      dropRule(it);
    }
    if (!s.ok()) FLB_ERROR("lb", "undoing the unsaved change of {}: {}", u->key.str(), s.error().message);
  }
  // The probes were told about an unsaved change only if a durable one was published after it.
  const bool republish = !undo_.empty() && undo_.front().ticket <= published_upto_;
  if (!undo_.empty()) FLB_ERROR("lb", "undid {} changes that could not be saved", undo_.size());
  undo_.clear();
  if (republish) publishProbeTargets();
}

Status RuleManager::awaitDurable(uint64_t ticket) {
  if (store_ == nullptr || ticket == 0) return okStatus();
  Status s = store_->waitDurable(ticket);
  std::lock_guard lock(mu_);
  if (!s.ok()) {
    rollbackLocked();  // every change not yet durable failed with this one
    return s.error().wrap("saving rules");
  }
  while (!undo_.empty() && undo_.front().ticket <= ticket) undo_.pop_front();
  publishProbeTargets();
  return okStatus();
}

Status RuleManager::apply(const RuleSpec& spec) {
  FLB_TRY(validateRule(spec));
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    auto it = rules_.find(spec.key);
    const RuleState* existing = it == rules_.end() ? nullptr : &it->second;
    if (existing == nullptr && rules_.size() >= kMaxRules) {
      return makeError(ErrorCode::kResourceExhausted,
                       "rule limit reached (" + std::to_string(kMaxRules) + " rules); delete a rule first");
    }
    FLB_ASSIGN_OR_RETURN(RuleState st, merged(existing, spec));

    if (st.eps.empty()) {  // detach removed the last endpoint: the rule goes away (as the reference)
      FLB_ASSIGN_OR_RETURN(ticket, removeLocked(it));
    } else {
      // Two rules must not claim the same datapath key (e.g. same privateIP:port with other EIPs).
      if (auto owner = by_dp_key_.find(dpKeyOf(st.spec));
          owner != by_dp_key_.end() && owner->second != spec.key) {
        return makeError(ErrorCode::kConflict,
                         "rule " + spec.key.str() + " would use the same datapath address " +
                             st.spec.datapathVip().str() + " as rule " + owner->second.str());
      }
      if (existing == nullptr) {
        FLB_ASSIGN_OR_RETURN(st.id, allocateId());
      }
      std::optional<RuleState> previous;
      if (existing) previous = *existing;
      FLB_TRY(program(st, existing));
      auto queued = queueLocked(spec.key, previous, &st);
      if (!queued.ok()) {  // the store refuses: put the datapath back, the table is untouched
        if (previous) {
          (void)program(*previous, &st);
        } else {
          (void)dp_.deleteService(makeSvcKey(st.spec));
        }
        return queued.error().wrap("saving rules");
      }
      ticket = *queued;
      FLB_INFO("lb", "{} rule {} (id {}, {} endpoints, mode {}, sel {})", existing ? "updated" : "created",
               spec.key.str(), st.id, endpointsOf(st.eps).size(), modeName(st.spec.mode),
               selName(st.spec.sel));
      setRule(spec.key, std::move(st));
      if (ticket == 0) publishProbeTargets();  // else once durable (awaitDurable)
    }
  }
  return awaitDurable(ticket);
}

Result<uint64_t> RuleManager::removeLocked(std::map<ServiceKey, RuleState>::iterator it) {
  if (it == rules_.end()) return makeError(ErrorCode::kInternal, "removeLocked on end()");
  RuleState st = it->second;
  FLB_TRY(dp_.deleteService(makeSvcKey(st.spec)));
  auto queued = queueLocked(st.spec.key, st, nullptr);
  if (!queued.ok()) {
    (void)program(st, &st);
    return queued.error().wrap("saving rules");
  }
  dropRule(it);
  auto flushed = dp_.flushRule(st.id);
  if (!flushed.ok()) FLB_WARN("lb", "flushing conntrack of rule {}: {}", st.id, flushed.error().message);
  FLB_INFO("lb", "deleted rule {} (id {}, {} connections flushed)", st.spec.key.str(), st.id,
           flushed.ok() ? *flushed : 0);
  if (*queued == 0) publishProbeTargets();  // else once durable (awaitDurable)
  return queued;
}

Status RuleManager::remove(const ServiceKey& key) {
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    auto it = rules_.find(key);
    if (it == rules_.end()) return makeError(ErrorCode::kNotFound, "rule " + key.str() + " not found");
    FLB_ASSIGN_OR_RETURN(ticket, removeLocked(it));
  }
  return awaitDurable(ticket);
}

Result<size_t> RuleManager::removeByName(const std::string& name) {
  uint64_t ticket = 0;
  size_t n = 0;
  Status failed = okStatus();
  {
    std::lock_guard lock(mu_);
    for (auto it = rules_.begin(); it != rules_.end() && failed.ok();) {
      auto next = std::next(it);
      if (it->second.spec.name == name) {
        if (auto t = removeLocked(it); t.ok()) {
          ticket = *t;
          ++n;
        } else {
          failed = t.error();
        }
      }
      it = next;
    }
  }
  // What was removed before a failure is still waited for, so it is either durable or undone.
  FLB_TRY(awaitDurable(ticket));
  FLB_TRY(failed);
  if (n == 0) return makeError(ErrorCode::kNotFound, "no rule named '" + name + "'");
  return n;
}

Status RuleManager::removeAll() {
  uint64_t ticket = 0;
  Status failed = okStatus();
  {
    std::lock_guard lock(mu_);
    while (!rules_.empty() && failed.ok()) {
      if (auto t = removeLocked(rules_.begin()); t.ok()) {
        ticket = *t;
      } else {
        failed = t.error();
      }
    }
  }
  FLB_TRY(awaitDurable(ticket));
  return failed;
}

Status RuleManager::restore(const std::vector<StoredRule>& stored) {
  std::lock_guard lock(mu_);
  std::set<uint32_t> ids;
  for (const auto& r : stored) {
    if (auto s = validateRule(r.spec); !s.ok()) return s.error().wrap("saved rule " + r.spec.key.str());
    if (r.rule_id >= FLB_MAX_RULES || !ids.insert(r.rule_id).second) {
      return makeError(ErrorCode::kInvalidArgument,
                       "saved rule " + r.spec.key.str() + " has a bad or duplicate id");
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
    setRule(r.spec.key, std::move(st));
  }
  // Services in the datapath that no saved rule explains are leftovers: remove them.
  if (auto listed = dp_.listServices(); listed.ok()) {
    for (const auto& [key, svc] : *listed) {
      DpKey k{};
      std::memcpy(k.data(), &key, sizeof key);
      if (!by_dp_key_.count(k)) {
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
      ProbeConfig cfg{key, st.spec.effectiveProbeInterval(), st.spec.effectiveProbeRetries(),
                      st.spec.probe.request, st.spec.probe.response};
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
  if (!probes_stale_) return;  // no rule with probes changed: the targets are the same (O(n) to rebuild)
  probes_stale_ = false;
  published_upto_ = last_queued_;
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
  std::vector<RuleStatus> out;
  std::vector<uint32_t> slots;  // endpoint slots in use per rule
  {
    std::lock_guard lock(mu_);
    out.reserve(rules_.size());
    slots.reserve(rules_.size());
    for (const auto& [k, st] : rules_) {
      RuleStatus rs{st.id, st.spec, {}};
      for (size_t i = 0; i < st.eps.size(); ++i) {
        if (st.eps[i])
          rs.endpoints.push_back(
              EndpointStatus{st.eps[i]->ep, static_cast<uint8_t>(i), st.eps[i]->healthy, 0, 0});
      }
      out.push_back(std::move(rs));
      slots.push_back(static_cast<uint32_t>(st.eps.size()));
    }
  }
  // Counters are read without the lock (one map lookup per slot in use): a long listing does not
  // hold up changes.
  for (size_t r = 0; r < out.size(); ++r) {
    auto counters = dp_.endpointCounters(out[r].rule_id, slots[r]);
    if (!counters.ok()) continue;
    for (auto& es : out[r].endpoints) {
      es.packets = (*counters)[es.index].packets;
      es.bytes = (*counters)[es.index].bytes;
    }
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
