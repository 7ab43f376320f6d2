#include "operator/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "common/strings.h"

namespace floatlb::kube {

namespace {

Error bad(const std::string& msg) { return makeError(ErrorCode::kInvalidArgument, msg); }

// Go's flag package accepts -name=value; CLI11 wants --name=value for long names.
std::vector<std::string> goStyle(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
      out.push_back("-" + a);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

Result<Duration> parseDuration(const std::string& flag, const std::string& v) {
  // Go durations of the forms used here: "500ms", "10s", "2m", or a bare number of seconds.
  size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) != 0)) ++i;
  if (i == 0 || i > 9) return bad("--" + flag + ": expected a duration like 10s or 500ms, got '" + v + "'");
  int64_t n = std::stoll(v.substr(0, i));
  std::string unit = v.substr(i);
  if (unit.empty() || unit == "s") return Duration(std::chrono::seconds(n));
  if (unit == "ms") return Duration(std::chrono::milliseconds(n));
  if (unit == "m") return Duration(std::chrono::minutes(n));
  return bad("--" + flag + ": unknown unit in '" + v + "' (use ms, s or m)");
}

}  // namespace

Result<PoolDef> parsePool(const std::string& text, const std::string& default_name) {
  PoolDef p;
  std::string spec = text;
  auto eq = text.find('=');
  if (eq != std::string::npos) {
    p.name = text.substr(0, eq);
    spec = text.substr(eq + 1);
  } else {
    p.name = default_name;
  }
  if (p.name.empty()) return bad("pool '" + text + "': expected name=CIDR or name=first-last");
  auto dash = spec.find('-');
  if (dash != std::string::npos) {
    auto a = Ip4::parse(spec.substr(0, dash));
    auto b = Ip4::parse(spec.substr(dash + 1));
    if (!a || !b) return bad("pool " + p.name + ": '" + spec + "' is not an IPv4 range a.b.c.d-e.f.g.h");
    if (*b < *a) return bad("pool " + p.name + ": range '" + spec + "' ends before it starts");
    p.first = *a;
    p.last = *b;
    return p;
  }
  auto c = Cidr::parse(spec, /*allow_host_bits=*/true);
  if (!c)
    return bad("pool " + p.name + ": '" + spec +
               "' is not an IPv4 CIDR or range (IPv6 pools are not supported)");
  auto slash = spec.find('/');
  Ip4 given = *Ip4::parse(spec.substr(0, slash));
  Ip4 net = c->network();
  Ip4 bcast(net.hostOrder() + static_cast<uint32_t>(c->size() - 1));
  if (c->prefixLen() == 32) {
    p.first = p.last = given;
  } else if (given != net) {  // host bits set: allocation starts at the given address
    p.first = given;
    p.last = Ip4(bcast.hostOrder() - 1);
  } else if (c->prefixLen() % 8 == 0) {  // byte-aligned: skip network and broadcast
    p.first = Ip4(net.hostOrder() + 1);
    p.last = Ip4(bcast.hostOrder() - 1);
  } else {
    p.first = net;
    p.last = bcast;
  }
  if (p.last < p.first) return bad("pool " + p.name + ": '" + spec + "' holds no usable address");
  return p;
}

Result<ParseOutcome> parseOptions(const std::vector<std::string>& raw) {
  ParseOutcome out;
  Options& o = out.options;
  CLI::App app{"kube-floatlb: the Kubernetes operator for floatlb (kube-loxilb compatible flags)",
               "kube-floatlb"};
  std::string loxi_url, external_cidr, cidr_pools, private_cidr, set_roles, ingress_mode = "hostname";
  std::string resync = "60s", lb_check = "10s", probe = "2s";
  int lb_mode = 0;
  bool no_zone_name = false;
  std::string zone;
  // Unsupported kube-loxilb features: parsed so that the message can name them.
  int set_bgp = 0, num_zone = 1, listen_bgp = 179, klog_v = 0;
  std::string ext_bgp, cidr6, exclude_roles, config_file, log_dir;
  bool append_eps = false, gateway_api = false, bgp_crds = false, k8s_meta = false, ext_ep = false,
       multihop = false;
  bool logtostderr = true;

  app.add_option("--loxiURL", loxi_url, "floatlb instances, comma-separated URLs (order = role preference)");
  app.add_option("--externalCIDR", external_cidr,
                 "external address pool (CIDR or a-b), replaces --cidrPools");
  app.add_option("--cidrPools", cidr_pools,
                 "named pools name=CIDR|a-b[,...] (default defaultPool=123.123.123.1/24)");
  app.add_option("--privateCIDR", private_cidr, "private VIP (IP/32) sent as privateIP on every rule");
  app.add_option("--setRoles", set_roles, "elect MASTER/BACKUP over /config/cistate; value = cistate vip");
  app.add_option("--setLBMode", lb_mode, "0 default (DNAT), 1 onearm, 2 fullnat");
  app.add_option("--zone", zone,
                 "zone name: status prefix <zone>-<ip>, rule names <ns>_<svc>:<zone>-inst0 (default llb)");
  app.add_flag("--noZoneName", no_zone_name, "write status.loadBalancer.ingress[].ip instead of llb-<ip>");
  app.add_flag("--setUniqueIP", o.unique_ip, "exclusive IPAM: one address per Service");
  app.add_flag("--monitor", o.monitor, "endpoint liveness probing on every rule");
  app.add_flag("--usePodNetwork", o.use_pod_network, "endpoints = ready pod IPs + targetPort");
  app.add_option("--loadBalancerClass", o.lb_class,
                 "spec.loadBalancerClass handled (default loxilb.io/loxilb)");
  app.add_option("--kubeconfig", o.kubeconfig,
                 "kubeconfig file (default $KUBECONFIG, ~/.kube/config, in-cluster)");
  app.add_option("--context", o.context, "kubeconfig context (default current-context)");
  app.add_flag("--leader-elect", o.leader_elect, "Lease leader election (run several replicas)");
  app.add_option("--leader-elect-namespace", o.leader_elect_namespace, "namespace of the Lease");
  app.add_option("--leader-elect-name", o.leader_elect_name, "name of the Lease");
  app.add_option("--ingress-ip-mode", ingress_mode,
                 "status format: hostname (llb-<ip>) | ip | proxy (ipMode: Proxy)");
  app.add_option("--finalizer", o.finalizer, "finalizer added to handled Services (\"\" disables)");
  app.add_option("--resync", resync, "full resync period (default 60s)");
  app.add_option("--lb-check", lb_check, "drift check period against every instance (default 10s)");
  app.add_option("--probe", probe, "instance health probe period (default 2s)");
  app.add_option("--http-bind", o.http_bind, "address:port of /metrics and /healthz (default 0.0.0.0:9180)");
  app.add_option("--loglevel", o.loglevel, "debug|info|warning|error");
  app.add_option("--loxi-cacert", o.loxi_cacert, "PEM CA file to verify https:// --loxiURL instances with");
  app.add_option("--loxi-token-file", o.loxi_token_file,
                 "file holding the instances' API bearer token (floatlb --api-token-file); https only");
  app.add_flag("--loxi-allow-insecure-token", o.loxi_insecure_token,
               "send the token over plain http:// too (loopback tests only)");
  app.add_option("--setBGP", set_bgp, "(not supported by floatlb)");
  app.add_option("--listenBGPPort", listen_bgp, "(BGP; not supported by floatlb)");
  app.add_flag("--eBGPMultiHop", multihop, "(BGP; not supported by floatlb)");
  app.add_option("--extBGPPeers", ext_bgp, "(not supported by floatlb)");
  app.add_option("--cidr6Pools", cidr6, "(IPv6; not supported by floatlb)");
  app.add_option("--excludeRoleList", exclude_roles, "(in-cluster discovery; not supported by floatlb)");
  app.add_option("--numZoneInstances", num_zone, "(sharding; not supported by floatlb)");
  app.add_flag("--appendEPs", append_eps, "(not supported by floatlb)");
  app.add_flag("--gatewayAPI", gateway_api, "(not supported by floatlb)");
  app.add_flag("--enableBGPCRDs", bgp_crds, "(not supported by floatlb)");
  app.add_flag("--enableK8sMetadata", k8s_meta, "(not supported by floatlb)");
  app.add_flag("--useExternalEndpoint", ext_ep, "(not supported by floatlb)");
  app.add_option("--config", config_file, "(kube-loxilb YAML config; not supported by floatlb)");
  app.add_option("--v", klog_v, "klog verbosity (>=4 = debug)");
  app.add_flag("--logtostderr", logtostderr, "klog compatibility (always on)");
  app.add_option("--log_dir", log_dir, "klog compatibility (ignored)");

  std::vector<std::string> args = goStyle(raw);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out.help = true;
    out.help_text = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return bad(std::string(e.what()) + " (kube-floatlb --help lists the accepted flags)");
  }

  auto unsupported = [](const std::string& flag, const std::string& why) {
    return bad("--" + flag + " is not supported by floatlb: " + why);
  };
  if (set_bgp != 0) return unsupported("setBGP", "floatlb does not speak BGP; use its heartbeat HA (--ka)");
  if (!ext_bgp.empty()) return unsupported("extBGPPeers", "floatlb does not speak BGP");
  if (multihop) return unsupported("eBGPMultiHop", "floatlb does not speak BGP");
  if (!cidr6.empty()) return unsupported("cidr6Pools", "floatlb is IPv4 only");
  if (!exclude_roles.empty())
    return unsupported("excludeRoleList", "it applies to in-cluster discovery only");
  if (num_zone != 1) return unsupported("numZoneInstances", "service sharding over several HA instances");
  if (append_eps) return unsupported("appendEPs", "floatlb rules have one owner");
  if (gateway_api) return unsupported("gatewayAPI", "Gateway API routes");
  if (bgp_crds) return unsupported("enableBGPCRDs", "BGP");
  if (k8s_meta) return unsupported("enableK8sMetadata", "the k8smeta push");
  if (ext_ep) return unsupported("useExternalEndpoint", "selector-less external endpoints");
  if (!config_file.empty()) return unsupported("config", "give the settings as flags");
  (void)listen_bgp;
  (void)logtostderr;
  if (klog_v >= 4) o.loglevel = "debug";

  if (loxi_url.empty()) {
    return bad(
        "--loxiURL is required: floatlb instances are not discovered in the cluster (e.g. "
        "--loxiURL=http://192.168.228.108:11111,http://192.168.218.60:11111)");
  }
  for (const auto& u : splitList(loxi_url)) {
    if (!startsWith(u, "http://") && !startsWith(u, "https://")) {
      return bad("--loxiURL: '" + u + "' is not an http:// or https:// URL");
    }
    std::string url = u;
    while (!url.empty() && url.back() == '/') url.pop_back();
    o.loxi_urls.push_back(url);
  }
  if (!o.loxi_token_file.empty() && !o.loxi_insecure_token) {
    for (const auto& u : o.loxi_urls) {
      if (!startsWith(u, "https://")) {
        return bad(
            "--loxi-token-file: '" + u +
            "' is plain http: the token would travel in clear (use https:// with floatlb's --tls-cert, "
            "or --loxi-allow-insecure-token)");
      }
    }
  }
  if (!o.loxi_cacert.empty() && ::access(o.loxi_cacert.c_str(), R_OK) != 0) {
    return bad("--loxi-cacert: cannot read '" + o.loxi_cacert + "'");
  }
  if (!o.loxi_token_file.empty() && ::access(o.loxi_token_file.c_str(), R_OK) != 0) {
    return bad("--loxi-token-file: cannot read '" + o.loxi_token_file + "'");
  }
  if (!external_cidr.empty()) {
    FLB_ASSIGN_OR_RETURN(PoolDef p, parsePool("defaultPool=" + external_cidr));
    o.pools.push_back(p);
  } else {
    std::string defs = cidr_pools.empty() ? "defaultPool=123.123.123.1/24" : cidr_pools;
    for (const auto& d : splitList(defs)) {
      auto p = parsePool(d);
      if (!p) return p.error().wrap("--cidrPools");
      for (const auto& q : o.pools) {
        if (q.name == p->name) return bad("--cidrPools: pool " + q.name + " is defined twice");
      }
      o.pools.push_back(*p);
    }
  }
  if (!private_cidr.empty()) {
    auto c = Cidr::parse(private_cidr, true);
    if (!c)
      return bad("--privateCIDR: '" + private_cidr +
                 "' is not an IPv4 address or CIDR (e.g. 192.168.248.254/32)");
    o.private_ip = *Ip4::parse(private_cidr.substr(0, private_cidr.find('/')));
  }
  if (!set_roles.empty()) {
    auto ip = Ip4::parse(set_roles);
    if (!ip)
      return bad("--setRoles: '" + set_roles + "' is not an IPv4 address (use 0.0.0.0 for no cistate VIP)");
    o.set_roles = *ip;
  }
  if (lb_mode < 0 || lb_mode > 5)
    return bad("--setLBMode: " + std::to_string(lb_mode) + " is not a mode (0..2)");
  if (lb_mode > 2) {
    static const char* kNames[] = {"default", "onearm", "fullnat", "dsr", "fullproxy", "hostonearm"};
    return unsupported("setLBMode=" + std::to_string(lb_mode),
                       std::string(kNames[lb_mode]) + " mode; use 0 (default), 1 (onearm) or 2 (fullnat)");
  }
  o.lb_mode = lb_mode;
  if (!zone.empty()) {
    o.zone = zone;
  } else if (no_zone_name) {
    o.zone = "llb";  // rule names keep llb-inst0; the status is written as an IP
  }
  if (ingress_mode == "hostname") {
    o.ingress_mode = no_zone_name ? IngressMode::kIp : IngressMode::kHostname;
  } else if (ingress_mode == "ip") {
    o.ingress_mode = IngressMode::kIp;
  } else if (ingress_mode == "proxy") {
    o.ingress_mode = IngressMode::kProxy;
  } else {
    return bad("--ingress-ip-mode: '" + ingress_mode + "' (use hostname, ip or proxy)");
  }
  FLB_ASSIGN_OR_RETURN(o.resync, parseDuration("resync", resync));
  FLB_ASSIGN_OR_RETURN(o.lb_check, parseDuration("lb-check", lb_check));
  FLB_ASSIGN_OR_RETURN(o.probe, parseDuration("probe", probe));
  if (o.lb_class.find('/') == std::string::npos) {
    return bad("--loadBalancerClass: '" + o.lb_class + "' must be prefix/name");
  }
  return out;
}

}  // namespace floatlb::kube
