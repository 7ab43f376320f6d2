// Endpoint computation (kubernetes.md §1.5): node InternalIP + NodePort by default;
// externalTrafficPolicy Local = only nodes hosting a ready endpoint (EndpointSlices + Nodes);
// `loxilb.io/usepodnetwork` = ready pod IPs + targetPort. Sorted by IP, capped at 32.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/objects.h"
#include "operator/rule.h"

namespace floatlb::kube {

inline constexpr size_t kMaxEndpoints = 32;
inline constexpr const char* kExcludeLabel = "node.kubernetes.io/exclude-from-external-load-balancers";

struct EndpointSet {
  std::vector<LbEndpoint> endpoints;
  size_t dropped = 0;  // beyond kMaxEndpoints
};

struct EndpointQuery {
  bool pod_network = false;
  const std::string* node_label = nullptr;  // loxilb.io/nodelabel
};

EndpointSet computeEndpoints(const ServiceView& svc, const ServicePort& port,
                             const std::map<std::string, NodeView>& nodes,
                             const std::vector<const SliceView*>& slices, const EndpointQuery& q);

}  // namespace floatlb::kube
