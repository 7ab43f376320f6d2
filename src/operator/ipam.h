// IPAM for LoadBalancer addresses (kubernetes.md §1.4). Pure and deterministic: lowest address
// first. Every (port, protocol) of a Service is registered on its address, so two Services can
// never both own one (VIP, port, proto) rule. Shared mode (default) packs Services onto the lowest
// address where none of their ports is taken; exclusive mode (--setUniqueIP) gives each Service
// an address of its own. The operator rebuilds this state from Service statuses (claim) before
// any allocation after a restart: the status is the only persistence.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "operator/options.h"

namespace floatlb::kube {

struct PortKey {
  uint16_t port = 0;
  std::string proto;  // lower case
  auto operator<=>(const PortKey&) const = default;
};

class Ipam {
 public:
  Ipam(std::vector<PoolDef> pools, bool exclusive);

  // A new or kept address for `svc` from `pool`. Keeps the address the Service already holds.
  // kResourceExhausted: "no free address in pool P (n of m used)"; kNotFound: unknown pool.
  Result<Ip4> allocate(const std::string& svc, const std::string& pool, const std::vector<PortKey>& ports);
  // A specific address (static IP, or one recovered from a status). Reserved when inside a pool;
  // outside every pool it is tracked for conflicts only. kConflict names the Service holding a port.
  Result<Ip4> claim(const std::string& svc, Ip4 ip, const std::vector<PortKey>& ports);
  void release(const std::string& svc);

  [[nodiscard]] std::optional<Ip4> addressOf(const std::string& svc) const;
  [[nodiscard]] const PoolDef* pool(const std::string& name) const;
  [[nodiscard]] const PoolDef* poolOf(Ip4 ip) const;
  [[nodiscard]] uint64_t usedIn(const PoolDef& p) const;  // addresses with at least one Service
  [[nodiscard]] const std::vector<PoolDef>& pools() const { return pools_; }

 private:
  // The Service (other than `svc`) using one of `ports` on `ip`, if any.
  [[nodiscard]] std::optional<std::string> collision(Ip4 ip, const std::string& svc,
                                                     const std::vector<PortKey>& ports) const;
  [[nodiscard]] bool usable(Ip4 ip, const std::string& svc, const std::vector<PortKey>& ports) const;
  void hold(const std::string& svc, Ip4 ip, const std::vector<PortKey>& ports);

  std::vector<PoolDef> pools_;
  bool exclusive_;
  std::map<Ip4, std::map<PortKey, std::string>> users_;  // address -> (port, proto) -> Service
  std::map<std::string, std::pair<Ip4, std::vector<PortKey>>> held_;
};

}  // namespace floatlb::kube
