// Service -> desired rules (kubernetes.md §1.2, §1.3): which Services are handled, the
// annotations, static IPs, IPAM and endpoints. Problems a user must see are returned as events.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "operator/endpoints.h"
#include "operator/ipam.h"
#include "operator/objects.h"
#include "operator/options.h"
#include "operator/rule.h"

namespace floatlb::kube {

struct Problem {
  std::string reason;  // EnsuringLoadBalancer, IPAllocationFailed, ...
  std::string message;
  bool warning = true;
};

struct ServicePlan {
  bool hold = false;          // a problem prevents programming: no rules, no status
  std::optional<Ip4> vip;     // the Service's address (also while it has no endpoints)
  std::vector<LbRule> rules;  // one per port that has endpoints
  std::vector<Problem> problems;
};

// type LoadBalancer, our loadBalancerClass, and a matching loxilb.io/zoneselect (if any).
bool handled(const ServiceView& svc, const Options& o);
std::vector<PortKey> portKeys(const ServiceView& svc);

ServicePlan planService(const ServiceView& svc, const Options& o, Ipam& ipam,
                        const std::map<std::string, NodeView>& nodes,
                        const std::vector<const SliceView*>& slices);

}  // namespace floatlb::kube
