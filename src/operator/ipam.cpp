#include "operator/ipam.h"

namespace floatlb::kube {

Ipam::Ipam(std::vector<PoolDef> pools, bool exclusive) : pools_(std::move(pools)), exclusive_(exclusive) {}

const PoolDef* Ipam::pool(const std::string& name) const {
  for (const auto& p : pools_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const PoolDef* Ipam::poolOf(Ip4 ip) const {
  for (const auto& p : pools_) {
    if (p.contains(ip)) return &p;
  }
  return nullptr;
}

std::optional<Ip4> Ipam::addressOf(const std::string& svc) const {
  auto it = held_.find(svc);
  if (it == held_.end()) return std::nullopt;
  return it->second.first;
}

uint64_t Ipam::usedIn(const PoolDef& p) const {
  uint64_t n = 0;
  for (auto it = users_.lower_bound(p.first); it != users_.end() && it->first <= p.last; ++it) {
    if (!it->second.empty()) ++n;
  }
  return n;
}

std::optional<std::string> Ipam::collision(Ip4 ip, const std::string& svc,
                                           const std::vector<PortKey>& ports) const {
  auto it = users_.find(ip);
  if (it == users_.end()) return std::nullopt;
  for (const auto& k : ports) {
    auto u = it->second.find(k);
    if (u != it->second.end() && u->second != svc) return u->second;
  }
  return std::nullopt;
}

bool Ipam::usable(Ip4 ip, const std::string& svc, const std::vector<PortKey>& ports) const {
  auto it = users_.find(ip);
  if (it == users_.end() || it->second.empty()) return true;
  if (exclusive_) {
    for (const auto& [k, owner] : it->second) {
      if (owner != svc) return false;
    }
    return true;
  }
  return !collision(ip, svc, ports).has_value();
}

void Ipam::hold(const std::string& svc, Ip4 ip, const std::vector<PortKey>& ports) {
  release(svc);
  auto& m = users_[ip];
  for (const auto& k : ports) m[k] = svc;
  held_[svc] = {ip, ports};
}

void Ipam::release(const std::string& svc) {
  auto it = held_.find(svc);
  if (it == held_.end()) return;
  auto u = users_.find(it->second.first);
  if (u != users_.end()) {
    for (auto k = u->second.begin(); k != u->second.end();) {
      k = k->second == svc ? u->second.erase(k) : std::next(k);
    }
    if (u->second.empty()) users_.erase(u);
  }
  held_.erase(it);
}

Result<Ip4> Ipam::allocate(const std::string& svc, const std::string& pool_name,
                           const std::vector<PortKey>& ports) {
  const PoolDef* p = pool(pool_name);
  if (p == nullptr) return makeError(ErrorCode::kNotFound, "pool " + pool_name + " is not defined");
  if (auto cur = addressOf(svc); cur && p->contains(*cur)) {
    if (auto other = collision(*cur, svc, ports)) {
      return makeError(ErrorCode::kConflict,
                       cur->str() + " is already used by " + *other + " for one of its ports");
    }
    hold(svc, *cur, ports);
    return *cur;
  }
  for (uint64_t i = 0; i < p->size(); ++i) {
    Ip4 ip(p->first.hostOrder() + static_cast<uint32_t>(i));
    if (usable(ip, svc, ports)) {
      hold(svc, ip, ports);
      return ip;
    }
  }
  return makeError(ErrorCode::kResourceExhausted, "no free address in pool " + p->name + " (" +
                                                      std::to_string(usedIn(*p)) + " of " +
                                                      std::to_string(p->size()) + " used)");
}

Result<Ip4> Ipam::claim(const std::string& svc, Ip4 ip, const std::vector<PortKey>& ports) {
  if (auto other = collision(ip, svc, ports)) {
    return makeError(ErrorCode::kConflict,
                     ip.str() + " is already used by " + *other + " for one of its ports");
  }
  hold(svc, ip, ports);
  return ip;
}

}  // namespace floatlb::kube
