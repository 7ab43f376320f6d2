#include "kubesim/kubeproxy.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace floatlb::kubesim {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool sliceOf(const json& slice, const std::string& ns, const std::string& name) {
  const json md = slice.value("metadata", json::object());
  return md.value("namespace", "") == ns &&
         md.value("labels", json::object()).value("kubernetes.io/service-name", "") == name;
}

// The DNAT verdict for a rule's endpoints (one: plain dnat; several: numgen map).
std::string dnatTo(const std::vector<ProxyEndpoint>& eps) {
  if (eps.size() == 1) return fmt::format("dnat to {}:{}", eps[0].ip, eps[0].port);
  std::string map;
  for (size_t i = 0; i < eps.size(); ++i) {
    map += fmt::format("{}{} : {} . {}", i ? ", " : "", i, eps[i].ip, eps[i].port);
  }
  return fmt::format("dnat to numgen random mod {} map {{ {} }}", eps.size(), map);
}

}  // namespace

std::vector<ProxyEndpoint> serviceEndpoints(const json& svc, const json& svcPort, const json& slices) {
  const std::string ns = svc["metadata"].value("namespace", "");
  const std::string name = svc["metadata"].value("name", "");
  const std::string portName = svcPort.value("name", "");
  const std::string proto = svcPort.value("protocol", "TCP");
  std::vector<ProxyEndpoint> out;
  for (const auto& s : slices) {
    if (!sliceOf(s, ns, name)) continue;
    int port = 0;
    for (const auto& p : s.value("ports", json::array())) {
      if (p.value("name", "") == portName && p.value("protocol", "TCP") == proto) port = p.value("port", 0);
    }
    if (port == 0) continue;
    for (const auto& e : s.value("endpoints", json::array())) {
      if (!e.value("conditions", json::object()).value("ready", false)) continue;
      for (const auto& a : e.value("addresses", json::array())) {
        out.push_back({a.get<std::string>(), port, e.value("nodeName", "")});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ip < b.ip; });
  return out;
}

std::vector<ProxyRule> proxyRules(const std::string& nodeName, const json& services, const json& slices) {
  std::vector<ProxyRule> rules;
  for (const auto& svc : services) {
    const json spec = svc.value("spec", json::object());
    const std::string type = spec.value("type", "ClusterIP");
    const std::string clusterIp = spec.value("clusterIP", "");
    const bool local = spec.value("externalTrafficPolicy", "Cluster") == "Local";
    for (const auto& p : spec.value("ports", json::array())) {
      ProxyRule base{svc["metadata"].value("namespace", ""),
                     svc["metadata"].value("name", ""),
                     lower(p.value("protocol", "TCP")),
                     "",
                     0,
                     false,
                     serviceEndpoints(svc, p, slices)};
      if (!clusterIp.empty() && clusterIp != "None") {
        ProxyRule r = base;
        r.clusterIp = clusterIp;
        r.port = p.value("port", 0);
        rules.push_back(r);
      }
      if ((type == "NodePort" || type == "LoadBalancer") && p.value("nodePort", 0) > 0) {
        ProxyRule r = base;
        r.port = p.value("nodePort", 0);
        r.local = local;
        if (local) std::erase_if(r.endpoints, [&](const ProxyEndpoint& e) { return e.nodeName != nodeName; });
        rules.push_back(r);
      }
    }
  }
  return rules;
}

std::string nftRuleset(const std::vector<ProxyRule>& rules) {
  // "table …{}" + "delete table" first: applying the script replaces the whole table in one transaction.
  std::string out =
      "table ip kubesim {\n}\ndelete table ip kubesim\ntable ip kubesim {\n"
      "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }\n"
      "  chain output { type nat hook output priority -100; policy accept; jump services; }\n"
      "  chain postrouting { type nat hook postrouting priority srcnat; policy accept; "
      "meta mark & 0x4000 == 0x4000 masquerade; }\n";
  std::string services, input, forward;
  for (const auto& r : rules) {
    std::string match = r.clusterIp.empty()
                            ? fmt::format("fib daddr type local {} dport {}", r.protocol, r.port)
                            : fmt::format("ip daddr {} {} dport {}", r.clusterIp, r.protocol, r.port);
    std::string comment =
        fmt::format(" comment \"{}/{}{}\"", r.ns, r.name, r.clusterIp.empty() ? " nodeport" : "");
    if (r.endpoints.empty()) {
      // No (local) endpoint: the packet is not translated and dies here (kube-proxy's "drop"): a
      // NodePort on its way to the local stack, a ClusterIP on its way out.
      (r.clusterIp.empty() ? input : forward) += fmt::format("    {} drop{}\n", match, comment);
      continue;
    }
    // NodePort with externalTrafficPolicy Cluster: the source is masqueraded to the node's address.
    const char* masq = r.clusterIp.empty() && !r.local ? " meta mark set meta mark | 0x4000" : "";
    services += fmt::format("    {}{} {}{}\n", match, masq, dnatTo(r.endpoints), comment);
  }
  out += fmt::format(
      "  chain services {{\n{}  }}\n"
      "  chain input {{\n    type filter hook input priority filter; policy accept;\n{}  }}\n"
      "  chain forward {{\n    type filter hook forward priority filter; policy accept;\n{}  }}\n}}\n",
      services, input, forward);
  return out;
}

std::vector<HealthCheck> healthChecks(const std::string& nodeName, const json& services, const json& slices) {
  std::vector<HealthCheck> out;
  for (const auto& svc : services) {
    const json spec = svc.value("spec", json::object());
    int port = spec.value("healthCheckNodePort", 0);
    if (port <= 0 || spec.value("externalTrafficPolicy", "Cluster") != "Local") continue;
    HealthCheck h{svc["metadata"].value("namespace", ""), svc["metadata"].value("name", ""), port, 0};
    std::set<std::string> ips;  // an endpoint counts once, whatever its ports
    for (const auto& p : spec.value("ports", json::array())) {
      for (const auto& e : serviceEndpoints(svc, p, slices)) {
        if (e.nodeName == nodeName) ips.insert(e.ip);
      }
    }
    h.localEndpoints = static_cast<int>(ips.size());
    out.push_back(h);
  }
  return out;
}

int healthCode(const HealthCheck& h) { return h.localEndpoints > 0 ? 200 : 503; }

std::string healthBody(const HealthCheck& h) {
  return fmt::format(
      "{{\n\t\"service\": {{\n\t\t\"namespace\": \"{}\",\n\t\t\"name\": \"{}\"\n\t}},\n\t\"localEndpoints\": "
      "{},\n\t\"serviceProxyHealthy\": true\n}}",
      h.ns, h.name, h.localEndpoints);
}

}  // namespace floatlb::kubesim
