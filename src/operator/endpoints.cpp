#include "operator/endpoints.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace floatlb::kube {

namespace {

bool labelled(const NodeView& n, const EndpointQuery& q) {
  return q.node_label == nullptr || n.labels.count(*q.node_label) != 0;
}

// The node names hosting ready endpoints; if none is ready, those serving while terminating.
std::set<std::string> localNodes(const std::vector<const SliceView*>& slices) {
  std::set<std::string> ready, draining;
  for (const SliceView* s : slices) {
    if (!s->ipv4) continue;
    for (const auto& e : s->endpoints) {
      if (e.node_name.empty() || e.addresses.empty()) continue;
      if (e.ready && !e.terminating) {
        ready.insert(e.node_name);
      } else if (e.serving && e.terminating) {
        draining.insert(e.node_name);
      }
    }
  }
  return ready.empty() ? draining : ready;
}

uint16_t targetPortOf(const ServicePort& sp, const SliceView& s) {
  uint16_t n = 0;
  const std::string& t = sp.target_port;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec == std::errc() && p == t.data() + t.size() && n != 0) return n;
  // Named targetPort: the slice's port with the Service port's name carries the resolved number.
  for (const auto& sl : s.ports) {
    if (sl.name == sp.name && sl.port != 0) return sl.port;
  }
  return 0;
}

}  // namespace

EndpointSet computeEndpoints(const ServiceView& svc, const ServicePort& port,
                             const std::map<std::string, NodeView>& nodes,
                             const std::vector<const SliceView*>& slices, const EndpointQuery& q) {
  std::set<LbEndpoint> set;
  if (q.pod_network) {
    for (const SliceView* s : slices) {
      if (!s->ipv4) continue;
      uint16_t tp = targetPortOf(port, *s);
      if (tp == 0) continue;
      for (const auto& e : s->endpoints) {
        if (!e.ready || e.terminating) continue;
        if (q.node_label != nullptr) {
          auto n = nodes.find(e.node_name);
          if (n == nodes.end() || !labelled(n->second, q)) continue;
        }
        for (Ip4 a : e.addresses) set.insert({a, tp});
      }
    }
  } else if (port.node_port != 0) {
    if (svc.etp_local) {
      for (const auto& name : localNodes(slices)) {
        auto n = nodes.find(name);
        if (n == nodes.end() || !n->second.internal_ip || !labelled(n->second, q)) continue;
        set.insert({*n->second.internal_ip, port.node_port});
      }
    } else {
      for (const auto& [name, n] : nodes) {
        if (!n.ready || !n.internal_ip || n.labels.count(kExcludeLabel) != 0 || !labelled(n, q)) continue;
        set.insert({*n.internal_ip, port.node_port});
      }
    }
  }
  EndpointSet out;
  out.endpoints.assign(set.begin(), set.end());
  if (out.endpoints.size() > kMaxEndpoints) {
    out.dropped = out.endpoints.size() - kMaxEndpoints;
    out.endpoints.resize(kMaxEndpoints);
  }
  return out;
}

}  // namespace floatlb::kube
