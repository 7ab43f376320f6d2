// status.loadBalancer formats (kubernetes.md §1.7) and their parsing back on restart.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8s/json.h"
#include "operator/objects.h"
#include "operator/options.h"

namespace floatlb::kube {

// The ingress list the operator writes for `ip`.
std::vector<IngressEntry> ingressFor(Ip4 ip, const Options& o);
// {"status":{"loadBalancer":{"ingress":[...]}}} (empty list => {"status":{"loadBalancer":{}}}).
k8s::Json statusPatch(const std::vector<IngressEntry>& ingress);
// The address a status names: "<zone>-<ip>" hostnames of our zone, or plain ip entries.
std::optional<Ip4> addressFromStatus(const std::vector<IngressEntry>& ingress, const std::string& zone);

}  // namespace floatlb::kube
