// Pure realisation of the route-table model (Ec2Model::routingPlan()) as Linux policy routing in
// the VPC router namespace, and the propagation delay between an API change and its effect.
// No I/O: the realiser (realiser.h) feeds the output to `ip -batch -` and `nft -f -`.
//
//   per subnet N   `ip rule iif br<N> lookup <kSubnetTableBase+N>`; the table holds the subnet's
//                  route table: local/igw routes -> `throw` (the main table then delivers to the
//                  connected subnet bridge or igw0), ENI routes -> `via <ENI primary IP> dev br<M>
//                  onlink`, blackholes -> `blackhole`, and `blackhole 0.0.0.0/0` when the table has no
//                  default route (AWS drops what no route matches).
//   gateway table  `ip rule iif igw0 lookup kGatewayTable`; the routing decision for ingress runs
//                  after the nftables prerouting DNAT (EIP -> private), i.e. on the private address.
//   source/dest    nftables bridge table `vpcsim_sdc`: a port ve<eni> whose ENI has SourceDestCheck on
//                  drops frames whose IPv4 source (sent) or destination (received) it does not own.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "sim/model.h"

namespace floatlb::sim {

inline constexpr int kSubnetTableBase = 10000;  // table and rule preference of subnet N: base + N
inline constexpr int kGatewayTable = 9999;      // table and rule preference of the IGW's table

// The kernel state a RoutingPlan stands for: rules by preference, routes by table and destination.
struct KernelRouting {
  std::map<int, std::string> rules;                          // pref -> "iif brN lookup T"
  std::map<int, std::map<std::string, std::string>> tables;  // table -> dest -> route spec
  bool operator==(const KernelRouting&) const = default;
};

[[nodiscard]] KernelRouting kernelRouting(const RoutingPlan& plan, const std::string& igw_dev = "igw0");

// `ip -batch` lines that turn `from` into `to`: routes replaced before the rules that use them are
// added, rules deleted before their routes. Empty when nothing changed.
[[nodiscard]] std::vector<std::string> routingBatch(const KernelRouting& from, const KernelRouting& to);

// The whole source/dest-check table, re-created atomically by one `nft -f -`.
[[nodiscard]] std::string sourceDestCheckRules(const RoutingPlan& plan);

// A plan change takes effect `delay` after the API call that made it (AWS documents no figure for
// route propagation; docs/vpcsim.md). Changes keep their order; the newest due plan wins.
class RoutePropagation {
 public:
  void setDelay(Duration d) { delay_ = d; }
  [[nodiscard]] Duration delay() const { return delay_; }
  // Records the model's current plan (a no-op when it equals the last one offered).
  void offer(const RoutingPlan& plan, TimePoint now);
  // The plan to realise now, if a change came due since the last take().
  std::optional<RoutingPlan> take(TimePoint now);
  [[nodiscard]] bool pending() const { return !queue_.empty(); }

 private:
  Duration delay_{};
  std::deque<std::pair<TimePoint, RoutingPlan>> queue_;
  std::optional<RoutingPlan> offered_;
};

}  // namespace floatlb::sim
