#include "operator/service_plan.h"

#include <algorithm>
#include <charconv>

namespace floatlb::kube {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return s;
}

std::optional<uint32_t> number(const std::string& v) {
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

const char* kUnsupported[] = {"loxilb.io/secondaryIPs",
                              "loxilb.io/poolSelectSecondary",
                              "loxilb.io/multus-nets",
                              "loxilb.io/useExternalEndpoint",
                              "loxilb.io/mtls-frontend-mode",
                              "loxilb.io/mtls-backend-verify",
                              "loxilb.io/egress",
                              "loxilb.io/useproxyprotov2",
                              "loxilb.io/zoneinstance",
                              "loxilb.io/prefLocalPod"};

}  // namespace

bool handled(const ServiceView& svc, const Options& o) {
  if (svc.type != "LoadBalancer") return false;
  if (!svc.load_balancer_class || *svc.load_balancer_class != o.lb_class) return false;
  const std::string* zs = svc.annotation("loxilb.io/zoneselect");
  return zs == nullptr || *zs == o.zone;
}

std::vector<PortKey> portKeys(const ServiceView& svc) {
  std::vector<PortKey> keys;
  for (const auto& p : svc.ports) {
    if (p.port != 0) keys.push_back({p.port, lower(p.protocol)});
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

ServicePlan planService(const ServiceView& svc, const Options& o, Ipam& ipam,
                        const std::map<std::string, NodeView>& nodes,
                        const std::vector<const SliceView*>& slices) {
  ServicePlan plan;
  auto fail = [&plan](std::string reason, std::string message) {
    plan.hold = true;
    plan.problems.push_back({std::move(reason), std::move(message), true});
    return plan;
  };
  for (const char* a : kUnsupported) {
    if (svc.annotation(a) != nullptr) {
      return fail("Unsupported",
                  std::string("annotation ") + a + " is not supported by floatlb; not programmed");
    }
  }
  LbRule tmpl;
  tmpl.mode = o.lb_mode;
  tmpl.monitor = o.monitor;
  if (const std::string* v = svc.annotation("loxilb.io/ipam");
      v != nullptr && lower(*v) != "ipv4" && lower(*v) != "ip" && lower(*v) != "ip4") {
    return fail("Unsupported", "loxilb.io/ipam: " + *v + " is not supported (floatlb is IPv4 only)");
  }
  if (const std::string* v = svc.annotation("loxilb.io/lbmode")) {
    std::string m = lower(*v);
    if (m == "default") {
      tmpl.mode = 0;
    } else if (m == "onearm") {
      tmpl.mode = 1;
    } else if (m == "fullnat") {
      tmpl.mode = 2;
    } else if (m == "dsr" || m == "fullproxy" || m == "hostonearm") {
      return fail("Unsupported",
                  "loxilb.io/lbmode: " + m + " is not supported by floatlb (default, onearm, fullnat)");
    }
  }
  if (const std::string* v = svc.annotation("loxilb.io/epselect")) {
    std::string m = lower(*v);
    if (m == "hash") {
      tmpl.sel = 1;
    } else if (m == "persist") {
      tmpl.sel = 3;
    } else if (m == "lc") {
      tmpl.sel = 4;
    } else if (m == "n2" || m == "n2det" || m == "n3") {
      return fail("Unsupported",
                  "loxilb.io/epselect: " + m + " is not supported by floatlb (rr, hash, persist, lc)");
    }
  }
  if (const std::string* v = svc.annotation("loxilb.io/liveness"); v != nullptr && lower(*v) == "yes") {
    tmpl.monitor = true;
  }
  if (const std::string* v = svc.annotation("loxilb.io/probetype")) {
    std::string t = lower(*v);
    if (t == "https" || t == "sctp") {
      return fail("Unsupported",
                  "loxilb.io/probetype: " + t + " is not supported by floatlb (tcp, udp, http, ping)");
    }
    if (t == "tcp" || t == "udp" || t == "http" || t == "ping" || t == "none") tmpl.probe_type = t;
  }
  bool probing = !tmpl.probe_type.empty() && tmpl.probe_type != "none" && tmpl.probe_type != "ping";
  if (const std::string* v = svc.annotation("loxilb.io/probeport"); v != nullptr && probing) {
    tmpl.probe_port = static_cast<uint16_t>(std::min<uint32_t>(number(*v).value_or(0), 65535));
  }
  if (probing) {
    if (const std::string* v = svc.annotation("loxilb.io/probereq")) tmpl.probe_req = *v;
    if (const std::string* v = svc.annotation("loxilb.io/proberesp")) tmpl.probe_resp = *v;
  }
  if (const std::string* v = svc.annotation("loxilb.io/probetimeout"))
    tmpl.probe_timeout = number(*v).value_or(0);
  if (const std::string* v = svc.annotation("loxilb.io/proberetries"))
    tmpl.probe_retries = number(*v).value_or(0);
  if (const std::string* v = svc.annotation("loxilb.io/timeout")) {
    if (auto n = number(*v); n && *n > 0) tmpl.timeout = *n;
  }
  tmpl.allowed_sources = svc.source_ranges;
  tmpl.name = ruleName(svc.ns, svc.name, o.zone);

  std::vector<PortKey> keys = portKeys(svc);
  if (keys.empty()) return fail("Unsupported", "the Service has no ports");

  // The address: static (annotation or spec.loadBalancerIP), else IPAM.
  const std::string* ann = svc.annotation("loxilb.io/staticIP");
  std::string stat = ann != nullptr ? *ann : "";
  if (!svc.load_balancer_ip.empty()) {
    if (!stat.empty() && stat != svc.load_balancer_ip) {
      return fail("ConflictingStaticIP", "loxilb.io/staticIP " + stat + " and spec.loadBalancerIP " +
                                             svc.load_balancer_ip + " differ; set one of them");
    }
    stat = svc.load_balancer_ip;
  }
  Ip4 vip;
  if (!stat.empty()) {
    auto ip = Ip4::parse(stat);
    if (!ip || ip->isUnspecified())
      return fail("Unsupported", "static IP '" + stat + "' is not an IPv4 address");
    auto claimed = ipam.claim(svc.key(), *ip, keys);
    if (!claimed) return fail("IPInUse", claimed.error().message);
    vip = *claimed;
  } else {
    const std::string* sel = svc.annotation("loxilb.io/poolSelect");
    std::string pool = sel != nullptr ? *sel : "defaultPool";
    if (ipam.pool(pool) == nullptr) {
      if (sel != nullptr)
        return fail("UnknownPool", "loxilb.io/poolSelect: pool " + pool + " is not defined");
      pool = ipam.pools().empty() ? pool : ipam.pools().front().name;
    }
    auto got = ipam.allocate(svc.key(), pool, keys);
    if (!got) {
      return fail(got.error().code == ErrorCode::kConflict ? "IPInUse" : "IPAllocationFailed",
                  got.error().message);
    }
    vip = *got;
    if (o.private_ip) tmpl.private_ip = o.private_ip;
  }
  plan.vip = vip;
  tmpl.external_ip = vip;

  if (!svc.allocate_node_ports && !o.use_pod_network) {
    const std::string* pn = svc.annotation("loxilb.io/usepodnetwork");
    if (pn == nullptr || lower(*pn) != "yes") {
      return fail("Unsupported",
                  "allocateLoadBalancerNodePorts is false: no NodePort to send traffic to "
                  "(set loxilb.io/usepodnetwork: \"yes\")");
    }
  }
  EndpointQuery q;
  const std::string* pn = svc.annotation("loxilb.io/usepodnetwork");
  q.pod_network = pn != nullptr ? lower(*pn) == "yes" : o.use_pod_network;
  q.node_label = svc.annotation("loxilb.io/nodelabel");
  size_t dropped = 0;
  for (const auto& p : svc.ports) {
    if (p.port == 0) continue;
    EndpointSet eps = computeEndpoints(svc, p, nodes, slices, q);
    dropped = std::max(dropped, eps.dropped);
    if (eps.endpoints.empty()) continue;
    LbRule r = tmpl;
    r.port = p.port;
    r.protocol = lower(p.protocol);
    r.endpoints = std::move(eps.endpoints);
    plan.rules.push_back(std::move(r));
  }
  if (dropped != 0) {
    plan.problems.push_back(
        {"TooManyEndpoints",
         std::to_string(dropped) + " endpoints beyond the limit of 32 per rule were not sent", true});
  }
  if (plan.rules.empty()) {
    plan.problems.push_back(
        {"NoEndpoints", "no ready endpoint: the address " + vip.str() + " is kept, no rule is programmed",
         false});
  }
  return plan;
}

}  // namespace floatlb::kube
