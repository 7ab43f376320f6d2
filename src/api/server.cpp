#include "api/server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <map>
#include <sstream>
#include <thread>

#include "common/log.h"

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

namespace {

constexpr const char* kJson = "application/json";

void sendError(httplib::Response& res, const Error& e) {
  int status = httpStatusFor(e.code);
  res.status = status;
  res.set_content(encodeError(status, e.message), kJson);
}

void sendStatus(httplib::Response& res, const Status& s) {
  if (!s.ok()) return sendError(res, s.error());
  res.status = 200;
  res.set_content(encodeResult("Success"), kJson);
}

void sendBody(httplib::Response& res, const Result<std::string>& body) {
  if (!body.ok()) return sendError(res, body.error());
  res.status = 200;
  res.set_content(*body, kJson);
}

Result<uint32_t> queryU32(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return uint32_t{0};
  auto v = req.get_param_value(name);
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

std::string promEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

struct ApiServer::Impl {
  ApiDeps deps;
  httplib::Server srv;
  std::thread thread;
  int port = 0;

  Result<std::string> conntrackJson() {
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

  std::string metricsText() {
    std::ostringstream out;
    auto rules = deps.rules->list();
    out << "# HELP floatlb_rules Load-balancer rules configured.\n# TYPE floatlb_rules gauge\nfloatlb_rules "
        << rules.size() << "\n";
    if (auto stats = deps.datapath->globalStats(); stats.ok()) {
      out << "# HELP floatlb_datapath_packets_total Datapath verdicts by reason.\n"
             "# TYPE floatlb_datapath_packets_total counter\n";
      for (int i = 0; i < FLB_STAT_MAX; ++i) {
        out << "floatlb_datapath_packets_total{reason=\"" << dataplane::statName(static_cast<flb_stat>(i))
            << "\"} " << (*stats)[static_cast<size_t>(i)] << "\n";
      }
    }
    out << "# HELP floatlb_endpoint_packets_total Packets forwarded to an endpoint.\n"
           "# TYPE floatlb_endpoint_packets_total counter\n"
           "# HELP floatlb_endpoint_bytes_total Bytes forwarded to an endpoint.\n"
           "# TYPE floatlb_endpoint_bytes_total counter\n"
           "# HELP floatlb_endpoint_up 1 if the endpoint is selectable (healthy).\n"
           "# TYPE floatlb_endpoint_up gauge\n";
    for (const auto& r : rules) {
      for (const auto& e : r.endpoints) {
        std::string labels = "{service=\"" + promEscape(r.spec.key.str()) + "\",name=\"" +
                             promEscape(r.spec.name) + "\",endpoint=\"" + e.ep.ip.str() + ":" +
                             std::to_string(e.ep.target_port) + "\"}";
        out << "floatlb_endpoint_packets_total" << labels << " " << e.packets << "\n";
        out << "floatlb_endpoint_bytes_total" << labels << " " << e.bytes << "\n";
        out << "floatlb_endpoint_up" << labels << " " << (e.healthy ? 1 : 0) << "\n";
      }
    }
    out << "# HELP floatlb_ha_state 1 for the current HA state of an instance.\n# TYPE floatlb_ha_state "
           "gauge\n";
    for (const auto& ci : deps.cistate->all()) {
      out << "floatlb_ha_state{instance=\"" << promEscape(ci.name) << "\",state=\""
          << ha::ciStateName(ci.state) << "\"} 1\n";
      out << "floatlb_ha_transitions_total{instance=\"" << promEscape(ci.name) << "\"} " << ci.transitions
          << "\n";
    }
    if (deps.metrics_text) out << deps.metrics_text();
    return out.str();
  }

  void routes() {
    const std::string base = "/netlox/v1";
    srv.Get(base, [](const httplib::Request&, httplib::Response& res) { sendStatus(res, okStatus()); });
    srv.Get(base + "/", [](const httplib::Request&, httplib::Response& res) { sendStatus(res, okStatus()); });
    srv.Get(base + "/version", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"version\":\"" + deps.version + "\",\"buildInfo\":\"" + deps.build_info + "\"}",
                      kJson);
    });

    srv.Post(base + "/config/loadbalancer", [this](const httplib::Request& req, httplib::Response& res) {
      auto spec = parseLoadBalancerEntry(req.body);
      if (!spec) return sendError(res, spec.error());
      sendStatus(res, deps.rules->apply(*spec));
    });
    srv.Get(base + "/config/loadbalancer/all", [this](const httplib::Request&, httplib::Response& res) {
      sendBody(res, encodeLoadBalancerList(deps.rules->list()));
    });
    srv.Delete(base + "/config/loadbalancer/all", [this](const httplib::Request&, httplib::Response& res) {
      sendStatus(res, deps.rules->removeAll());
    });
    srv.Delete(
        base + R"(/config/loadbalancer/externalipaddress/([^/]+)/port/([^/]+)/protocol/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) { sendStatus(res, deleteByKey(req)); });
    srv.Delete(base + R"(/config/loadbalancer/name/([^/]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 auto n = deps.rules->removeByName(req.matches[1]);
                 sendStatus(res, n.ok() ? okStatus() : Status(n.error()));
               });

    srv.Get(base + "/config/conntrack/all",
            [this](const httplib::Request&, httplib::Response& res) { sendBody(res, conntrackJson()); });

    srv.Get(base + "/config/cistate/all", [this](const httplib::Request&, httplib::Response& res) {
      sendBody(res, encodeCiStates(deps.cistate->all()));
    });
    srv.Post(base + "/config/cistate", [this](const httplib::Request& req, httplib::Response& res) {
      auto ci = parseCiState(req.body);
      if (!ci) return sendError(res, ci.error());
      if (deps.set_cistate) return sendStatus(res, deps.set_cistate(*ci));
      auto changed = deps.cistate->set(ci->instance, ci->state, ci->vip);
      sendStatus(res, changed.ok() ? okStatus() : Status(changed.error()));
    });
    srv.Get(base + "/config/bfd/all", [this](const httplib::Request&, httplib::Response& res) {
      if (!deps.bfd_json) return sendError(res, makeError(ErrorCode::kInternal, "bfd session not running"));
      sendBody(res, deps.bfd_json());
    });

    srv.Get(base + "/config/ha/peers", [this](const httplib::Request&, httplib::Response& res) {
      if (!deps.ha_peers_json)
        return sendError(res, makeError(ErrorCode::kNotFound, "HA is not configured (--cluster/--ka)"));
      sendBody(res, deps.ha_peers_json());
    });
    srv.Get(base + "/config/cloud/timeline", [this](const httplib::Request&, httplib::Response& res) {
      if (!deps.cloud_timeline_json)
        return sendError(res, makeError(ErrorCode::kNotFound, "no cloud hook (--cloud=aws)"));
      sendBody(res, deps.cloud_timeline_json());
    });
    srv.Get(base + "/config/endpoint/all", [this](const httplib::Request&, httplib::Response& res) {
      sendBody(res, encodeEndpoints(deps.health ? deps.health->rows() : std::vector<EndpointRow>{}));
    });
    srv.Post(base + "/config/endpoint", [this](const httplib::Request& req, httplib::Response& res) {
      if (!deps.health)
        return sendError(res, makeError(ErrorCode::kUnavailable, "endpoint probing is not running"));
      auto cfg = parseEndpointEntry(req.body);
      if (!cfg) return sendError(res, cfg.error());
      sendStatus(res, deps.health->addManual(*cfg));
    });
    srv.Delete(base + R"(/config/endpoint/epipaddress/([^/]+))", [this](const httplib::Request& req,
                                                                        httplib::Response& res) {
      if (!deps.health)
        return sendError(res, makeError(ErrorCode::kUnavailable, "endpoint probing is not running"));
      auto ip = Ip4::parse(req.matches[1].str());
      if (!ip) return sendError(res, ip.error());
      auto port = queryU32(req, "probe_port");
      if (!port) return sendError(res, port.error());
      std::string type = req.has_param("probe_type") ? req.get_param_value("probe_type") : "ping";
      sendStatus(res, deps.health->removeManual(*ip, type, static_cast<uint16_t>(*port)));
    });

    srv.Get(base + "/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metricsText(), "text/plain; version=0.0.4");
    });

    srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404) {
        res.set_content(encodeError(404, "no such resource: " + req.method + " " + req.path), kJson);
      } else {
        res.set_content(encodeError(res.status, "request failed"), kJson);
      }
    });
    srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_content(encodeError(500, "internal error while handling the request"), kJson);
    });
    srv.set_payload_max_length(1 << 20);
  }

  Status deleteByKey(const httplib::Request& req) {
    lb::ServiceKey key;
    FLB_ASSIGN_OR_RETURN(key.external_ip, Ip4::parse(req.matches[1].str()));
    FLB_ASSIGN_OR_RETURN(key.port, parsePort(req.matches[2].str()));
    FLB_ASSIGN_OR_RETURN(key.proto, parseL4Proto(req.matches[3].str()));
    FLB_ASSIGN_OR_RETURN(key.block, queryU32(req, "block"));
    return deps.rules->remove(key);
  }
};

ApiServer::ApiServer(ApiDeps deps) : impl_(std::make_unique<Impl>()) {
  impl_->deps = std::move(deps);
  impl_->routes();
}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start(const std::string& host, uint16_t port) {
  int bound =
      port == 0 ? impl_->srv.bind_to_any_port(host) : (impl_->srv.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                                  " (address in use or not available)");
  }
  impl_->port = bound;
  impl_->thread = std::thread([this] { impl_->srv.listen_after_bind(); });
  FLB_INFO("api", "REST API listening on {}:{}", host, bound);
  return okStatus();
}

void ApiServer::stop() {
  if (!impl_) return;
  impl_->srv.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t ApiServer::port() const { return static_cast<uint16_t>(impl_->port); }

}  // namespace floatlb::api
