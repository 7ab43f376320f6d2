#include "api/router.h"

#include <functional>
#include <map>
#include <string_view>

#include "common/metrics.h"
#include "common/strings.h"

namespace floatlb::api {

int httpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      return 503;
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // Compare over the longer length so the loop count does not reveal a matching prefix.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

namespace {

constexpr std::string_view kBase = "/netlox/v1";

using Params = std::map<std::string, std::string>;

ApiResponse errorResponse(const Error& e) {
  const int status = httpStatusFor(e.code);
  return ApiResponse{status, "application/json", encodeError(status, e.message)};
}

ApiResponse statusResponse(const Status& s) {
  if (!s.ok()) return errorResponse(s.error());
  return ApiResponse{200, "application/json", encodeResult("Success")};
}

ApiResponse bodyResponse(const Result<std::string>& body) {
  if (!body.ok()) return errorResponse(body.error());
  return ApiResponse{200, "application/json", *body};
}

Result<uint32_t> queryU32(const ApiRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return uint32_t{0};
  const std::string& v = it->second;
  uint64_t x = 0;
  if (v.empty() || v.size() > 10)
    return makeError(ErrorCode::kInvalidArgument, std::string("query ") + name + " must be a number");
  for (char c : v) {
    if (c < '0' || c > '9')
      return makeError(ErrorCode::kInvalidArgument, std::string("query ") + name + " must be a number");
    x = x * 10 + static_cast<uint64_t>(c - '0');
  }
  if (x > UINT32_MAX)
    return makeError(ErrorCode::kInvalidArgument, std::string("query ") + name + " is out of range");
  return static_cast<uint32_t>(x);
}

Status queryBool(const ApiRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return okStatus();
  const std::string& v = it->second;
  if (v == "true" || v == "false" || v == "1" || v == "0" || v == "True" || v == "False") return okStatus();
  return makeError(ErrorCode::kInvalidArgument,
                   std::string("query ") + name + " must be true or false, got '" + v + "'");
}

// Path segments after /netlox/v1 ("" for the base itself).
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

struct ApiRouter::Route {
  std::string method;
  std::vector<std::string> pattern;  // "{name}" segments capture
  std::function<ApiResponse(const ApiRequest&, const Params&)> run;

  [[nodiscard]] bool match(const std::vector<std::string_view>& segs, Params* params) const {
    if (segs.size() != pattern.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i) {
      const std::string& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        (*params)[p.substr(1, p.size() - 2)] = std::string(segs[i]);
      } else if (p != segs[i]) {
        return false;
      }
    }
    return true;
  }
};

namespace {

// DELETE by service key in every form of loxilb's api/swagger.yml:
//   [hosturl/{hosturl}/]externalipaddress/{ip}/port/{port}[/portmax/{portmax}]/protocol/{proto}
// hosturl "any" (or empty) and portmax 0 mean "not set"; floatlb has no host-URL rules and no
// port ranges, so anything else is a 400 naming what is unsupported.
Result<lb::ServiceKey> deleteKey(const ApiRequest& req, const Params& p) {
  if (auto h = p.find("hosturl"); h != p.end() && !h->second.empty() && h->second != "any") {
    return makeError(ErrorCode::kInvalidArgument,
                     "hosturl '" + h->second + "': host/URL rules are not supported (use 'any')");
  }
  lb::ServiceKey key;
  FLB_ASSIGN_OR_RETURN(key.external_ip, Ip4::parse(p.at("ip")));
  FLB_ASSIGN_OR_RETURN(key.port, parsePort(p.at("port")));
  if (auto m = p.find("portmax"); m != p.end()) {
    FLB_ASSIGN_OR_RETURN(uint16_t port_max, parsePort(m->second, /*allow_zero=*/true));
    if (port_max != 0 && port_max != key.port) {
      return makeError(ErrorCode::kInvalidArgument,
                       "portmax " + m->second + ": port ranges are not supported (" +
                           "use portmax 0 or equal to port " + p.at("port") + ")");
    }
  }
  FLB_ASSIGN_OR_RETURN(key.proto, parseL4Proto(p.at("proto")));
  FLB_TRY(queryBool(req, "bgp"));
  FLB_ASSIGN_OR_RETURN(key.block, queryU32(req, "block"));
  return key;
}

Result<std::string> conntrackJson(const ApiDeps& deps) {
  FLB_ASSIGN_OR_RETURN(auto entries, deps.datapath->dumpConntrack());
  std::map<uint32_t, std::pair<std::string, std::map<uint8_t, uint8_t>>> by_id;
  for (const auto& r : deps.rules->list()) {
    auto& slot = by_id[r.rule_id];
    slot.first = r.spec.name;
    for (const auto& e : r.endpoints) slot.second[e.index] = e.ep.weight;
  }
  std::vector<CtRow> rows;
  rows.reserve(entries.size());
  for (const auto& e : entries) {
    CtRow row{e, "-", 0};
    if (auto it = by_id.find(e.value.rule_id); it != by_id.end()) {
      if (!it->second.first.empty()) row.service_name = it->second.first;
      if (auto w = it->second.second.find(e.value.ep_idx); w != it->second.second.end())
        row.weight = w->second;
    }
    rows.push_back(row);
  }
  return encodeConntrack(rows);
}

std::vector<std::string> pattern(std::string_view path) {
  std::vector<std::string> out;
  for (auto s : segments(path)) out.emplace_back(s);
  return out;
}

}  // namespace

ApiRouter::ApiRouter(ApiDeps deps) : deps_(std::move(deps)) {
  auto add = [this](std::string method, std::string_view path,
                    std::function<ApiResponse(const ApiRequest&, const Params&)> fn) {
    routes_.push_back(Route{std::move(method), pattern(path), std::move(fn)});
  };
  const ApiDeps& d = deps_;
  add("GET", "", [](const ApiRequest&, const Params&) { return statusResponse(okStatus()); });
  add("GET", "version", [&d](const ApiRequest&, const Params&) {
    return ApiResponse{200, "application/json", encodeVersion(d.version, d.build_info)};
  });

  add("POST", "config/loadbalancer", [&d](const ApiRequest& req, const Params&) {
    auto spec = parseLoadBalancerEntry(req.body);
    if (!spec) return errorResponse(spec.error());
    return statusResponse(d.rules->apply(*spec));
  });
  add("GET", "config/loadbalancer/all", [&d](const ApiRequest&, const Params&) {
    return bodyResponse(encodeLoadBalancerList(d.rules->list()));
  });
  add("DELETE", "config/loadbalancer/all",
      [&d](const ApiRequest&, const Params&) { return statusResponse(d.rules->removeAll()); });
  auto del_by_key = [&d](const ApiRequest& req, const Params& p) {
    auto key = deleteKey(req, p);
    if (!key) return errorResponse(key.error());
    return statusResponse(d.rules->remove(*key));
  };
  for (const char* prefix : {"", "hosturl/{hosturl}/"}) {
    for (const char* range : {"", "portmax/{portmax}/"}) {
      add("DELETE",
          std::string("config/loadbalancer/") + prefix + "externalipaddress/{ip}/port/{port}/" + range +
              "protocol/{proto}",
          del_by_key);
    }
  }
  add("DELETE", "config/loadbalancer/name/{name}", [&d](const ApiRequest&, const Params& p) {
    auto n = d.rules->removeByName(p.at("name"));
    return statusResponse(n.ok() ? okStatus() : Status(n.error()));
  });

  add("GET", "config/conntrack/all",
      [&d](const ApiRequest&, const Params&) { return bodyResponse(conntrackJson(d)); });

  add("GET", "config/cistate/all",
      [&d](const ApiRequest&, const Params&) { return bodyResponse(encodeCiStates(d.cistate->all())); });
  add("POST", "config/cistate", [&d](const ApiRequest& req, const Params&) {
    auto ci = parseCiState(req.body);
    if (!ci) return errorResponse(ci.error());
    if (d.ha) return statusResponse(d.ha->requestState(*ci));
    auto changed = d.cistate->set(ci->instance, ci->state, ci->vip);
    return statusResponse(changed.ok() ? okStatus() : Status(changed.error()));
  });
  add("GET", "config/bfd/all", [&d](const ApiRequest&, const Params&) {
    auto bfd = d.ha ? d.ha->bfd() : std::nullopt;
    if (!bfd) return errorResponse(makeError(ErrorCode::kInternal, "bfd session not running"));
    return ApiResponse{200, "application/json", encodeBfd(bfd->instance, bfd->config, bfd->stats)};
  });
  add("GET", "config/ha/peers", [&d](const ApiRequest&, const Params&) {
    auto peers = d.ha ? d.ha->peers() : std::nullopt;
    if (!peers)
      return errorResponse(makeError(ErrorCode::kNotFound, "HA is not configured (--cluster/--ka)"));
    return ApiResponse{
        200, "application/json",
        encodeHaPeers(peers->instance, peers->self, peers->heartbeat ? &*peers->heartbeat : nullptr,
                      peers->sync, peers->takeovers_out_of_sync)};
  });
  add("GET", "config/cloud/timeline", [&d](const ApiRequest&, const Params&) {
    if (!d.cloud) return errorResponse(makeError(ErrorCode::kNotFound, "no cloud hook (--cloud=aws)"));
    return ApiResponse{200, "application/json", d.cloud->timelineJson()};
  });

  add("GET", "config/endpoint/all", [&d](const ApiRequest&, const Params&) {
    return bodyResponse(encodeEndpoints(d.health ? d.health->rows() : std::vector<EndpointRow>{}));
  });
  add("POST", "config/endpoint", [&d](const ApiRequest& req, const Params&) {
    if (!d.health)
      return errorResponse(makeError(ErrorCode::kUnavailable, "endpoint probing is not running"));
    auto cfg = parseEndpointEntry(req.body);
    if (!cfg) return errorResponse(cfg.error());
    return statusResponse(d.health->addManual(*cfg));
  });
  add("DELETE", "config/endpoint/epipaddress/{ip}", [&d](const ApiRequest& req, const Params& p) {
    if (!d.health)
      return errorResponse(makeError(ErrorCode::kUnavailable, "endpoint probing is not running"));
    auto ip = Ip4::parse(p.at("ip"));
    if (!ip) return errorResponse(ip.error());
    auto port = queryU32(req, "probe_port");
    if (!port) return errorResponse(port.error());
    auto t = req.query.find("probe_type");
    const std::string type = t != req.query.end() ? t->second : "ping";
    return statusResponse(d.health->removeManual(*ip, type, static_cast<uint16_t>(*port)));
  });

  add("GET", "metrics", [this](const ApiRequest&, const Params&) {
    return ApiResponse{200, "text/plain; version=0.0.4", metricsText()};
  });
}

ApiRouter::~ApiRouter() = default;

ApiResponse ApiRouter::handle(const ApiRequest& req) const {
  std::string_view path = req.path;
  if (!startsWith(path, kBase) || (path.size() > kBase.size() && path[kBase.size()] != '/')) {
    return ApiResponse{404, "application/json",
                       encodeError(404, "no such resource: " + req.method + " " + req.path)};
  }
  const auto segs = segments(path.substr(kBase.size()));
  const bool liveness = segs.empty() && req.method == "GET";
  if (!deps_.tokens.empty() && !liveness) {
    static constexpr std::string_view kBearer = "Bearer ";
    bool ok = false;
    if (startsWith(req.authorization, kBearer)) {
      std::string_view presented = std::string_view(req.authorization).substr(kBearer.size());
      // Every configured token is compared (no early exit) so timing does not tell which one.
      for (const auto& t : deps_.tokens) ok |= constantTimeEquals(presented, t);
    }
    if (!ok) {
      return ApiResponse{
          401, "application/json",
          encodeError(401, req.authorization.empty()
                               ? "authentication required: send 'Authorization: Bearer <token>'"
                               : "invalid bearer token")};
    }
  }
  for (const auto& r : routes_) {
    Params params;
    if (r.method == req.method && r.match(segs, &params)) return r.run(req, params);
  }
  return ApiResponse{404, "application/json",
                     encodeError(404, "no such resource: " + req.method + " " + req.path)};
}

std::string ApiRouter::metricsText() const {
  MetricsWriter w;
  const auto rules = deps_.rules->list();
  w.family("floatlb_rules", MetricType::kGauge, "Load-balancer rules configured.");
  w.sample("floatlb_rules", static_cast<double>(rules.size()));
  if (auto stats = deps_.datapath->globalStats(); stats.ok()) {
    w.family("floatlb_datapath_packets_total", MetricType::kCounter, "Datapath verdicts by reason.");
    for (int i = 0; i < FLB_STAT_MAX; ++i) {
      w.sample("floatlb_datapath_packets_total", {{"reason", dataplane::statName(static_cast<flb_stat>(i))}},
               static_cast<double>((*stats)[static_cast<size_t>(i)]));
    }
  }
  w.family("floatlb_endpoint_packets_total", MetricType::kCounter, "Packets forwarded to an endpoint.");
  w.family("floatlb_endpoint_bytes_total", MetricType::kCounter, "Bytes forwarded to an endpoint.");
  w.family("floatlb_endpoint_up", MetricType::kGauge, "1 if the endpoint is selectable (healthy).");
  for (const auto& r : rules) {
    for (const auto& e : r.endpoints) {
      const MetricLabels labels = {{"service", r.spec.key.str()},
                                   {"name", r.spec.name},
                                   {"endpoint", e.ep.ip.str() + ":" + std::to_string(e.ep.target_port)}};
      w.sample("floatlb_endpoint_packets_total", labels, static_cast<double>(e.packets));
      w.sample("floatlb_endpoint_bytes_total", labels, static_cast<double>(e.bytes));
      w.sample("floatlb_endpoint_up", labels, e.healthy ? 1 : 0);
    }
  }
  w.family("floatlb_ha_state", MetricType::kGauge, "1 for the current HA state of an instance.");
  w.family("floatlb_ha_transitions_total", MetricType::kCounter, "HA state changes of an instance.");
  for (const auto& ci : deps_.cistate->all()) {
    w.sample("floatlb_ha_state", {{"instance", ci.name}, {"state", ha::ciStateName(ci.state)}}, 1);
    w.sample("floatlb_ha_transitions_total", {{"instance", ci.name}}, static_cast<double>(ci.transitions));
  }
  if (deps_.ha) deps_.ha->appendMetrics(w);
  if (deps_.cloud) deps_.cloud->appendMetrics(w);
  std::string out = w.str();
  if (deps_.cloud) out += deps_.cloud->metricsText();
  return out;
}

}  // namespace floatlb::api
