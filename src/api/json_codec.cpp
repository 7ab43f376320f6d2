#include "api/json_codec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace floatlb::api {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Go's encoding/json matches keys case-insensitively; we lower-case every object key once.
json lowerKeys(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[lower(it.key())] = lowerKeys(it.value());
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(lowerKeys(v));
    return out;
  }
  return j;
}

Error bad(const std::string& msg) { return makeError(ErrorCode::kInvalidArgument, msg); }

// Typed field access with messages that name the field path.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  bool has(const char* key) const {
    const std::string k = lower(key);
    return j_.contains(k) && !j_.at(k).is_null();
  }
  const json& at(const char* key) const { return j_.at(lower(key)); }

  Result<std::string> str(const char* key, bool required = false) const {
    if (!has(key)) {
      if (required) return bad(path_ + key + " is required");
      return std::string();
    }
    const auto& v = at(key);
    if (!v.is_string()) return bad(path_ + key + ": expected a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }

  Result<int64_t> num(const char* key, int64_t lo, int64_t hi, bool required = false) const {
    if (!has(key)) {
      if (required) return bad(path_ + key + " is required");
      return int64_t{0};
    }
    const auto& v = at(key);
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      return bad(path_ + key + ": expected an integer, got " + std::string(v.type_name()));
    }
    int64_t x = v.is_number_unsigned()
                    ? static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX))
                    : v.get<int64_t>();
    if (x < lo || x > hi) {
      return bad(path_ + key + ": " + std::to_string(x) + " is out of range (" + std::to_string(lo) + ".." +
                 std::to_string(hi) + ")");
    }
    return x;
  }

  Result<bool> boolean(const char* key) const {
    if (!has(key)) return false;
    const auto& v = at(key);
    if (!v.is_boolean())
      return bad(path_ + key + ": expected true or false, got " + std::string(v.type_name()));
    return v.get<bool>();
  }

  Result<Ip4> ip(const char* key, bool required) const {
    FLB_ASSIGN_OR_RETURN(std::string s, str(key, required));
    if (s.empty()) {
      if (required) return bad(path_ + key + " is required");
      return Ip4();
    }
    auto r = Ip4::parse(s);
    if (!r) return bad(path_ + key + ": '" + s + "' is not a valid IPv4 address");
    return *r;
  }

  Result<const json*> array(const char* key) const {
    if (!has(key)) return static_cast<const json*>(nullptr);
    const auto& v = at(key);
    if (!v.is_array()) return bad(path_ + key + ": expected a list, got " + std::string(v.type_name()));
    return &v;
  }

 private:
  const json& j_;
  std::string path_;
};

Result<json> parseObject(std::string_view body, const char* what) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad(std::string("malformed JSON in ") + what);
  if (!j.is_object()) return bad(std::string(what) + " must be a JSON object");
  return lowerKeys(j);
}

Result<lb::RuleSpec> ruleFromJson(const json& root) {
  if (!root.contains("servicearguments") || !root.at("servicearguments").is_object()) {
    return bad("serviceArguments is required and must be an object");
  }
  Obj sa(root.at("servicearguments"), "serviceArguments.");
  lb::RuleSpec r;
  FLB_ASSIGN_OR_RETURN(r.key.external_ip, sa.ip("externalIP", true));
  FLB_ASSIGN_OR_RETURN(Ip4 priv, sa.ip("privateIP", false));
  if (!priv.isUnspecified()) r.private_ip = priv;
  FLB_ASSIGN_OR_RETURN(int64_t port, sa.num("port", 1, 65535, true));
  r.key.port = static_cast<uint16_t>(port);
  FLB_ASSIGN_OR_RETURN(int64_t port_max, sa.num("portMax", 0, 65535));
  if (port_max != 0 && port_max != port)
    return bad("serviceArguments.portMax: port ranges are not supported");
  FLB_ASSIGN_OR_RETURN(std::string proto, sa.str("protocol"));
  if (proto.empty()) proto = "tcp";
  auto p = parseL4Proto(proto);
  if (!p) return bad("serviceArguments.protocol: " + p.error().message);
  r.key.proto = *p;
  FLB_ASSIGN_OR_RETURN(int64_t block, sa.num("block", 0, UINT32_MAX));
  r.key.block = static_cast<uint32_t>(block);

  FLB_ASSIGN_OR_RETURN(int64_t sel, sa.num("sel", 0, 6));
  if (sel > 4) return bad("serviceArguments.sel " + std::to_string(sel) + " (n2/n3) is not supported (0..4)");
  r.sel = static_cast<lb::LbSel>(sel);
  FLB_ASSIGN_OR_RETURN(int64_t mode, sa.num("mode", 0, 5));
  if (mode > 2) {
    static const char* kNames[] = {"", "", "", "dsr", "fullproxy", "hostonearm"};
    return bad("serviceArguments.mode " + std::to_string(mode) + " (" + kNames[mode] +
               ") is not supported (0 default, 1 onearm, 2 fullnat)");
  }
  r.mode = static_cast<lb::LbMode>(mode);
  FLB_ASSIGN_OR_RETURN(r.bgp, sa.boolean("bgp"));
  FLB_ASSIGN_OR_RETURN(r.monitor, sa.boolean("monitor"));
  FLB_ASSIGN_OR_RETURN(r.probe.type, sa.str("probeType"));
  r.probe.type = lower(r.probe.type);
  FLB_ASSIGN_OR_RETURN(int64_t pport, sa.num("probePort", 0, 65535));
  r.probe.port = static_cast<uint16_t>(pport);
  FLB_ASSIGN_OR_RETURN(r.probe.request, sa.str("probeReq"));
  FLB_ASSIGN_OR_RETURN(r.probe.response, sa.str("probeResp"));
  FLB_ASSIGN_OR_RETURN(int64_t pto, sa.num("probeTimeout", 0, 86400));
  r.probe.interval_s = static_cast<uint32_t>(pto);
  FLB_ASSIGN_OR_RETURN(int64_t pret, sa.num("probeRetries", 0, 100));
  r.probe.retries = static_cast<uint32_t>(pret);
  FLB_ASSIGN_OR_RETURN(int64_t ito, sa.num("inactiveTimeOut", 0, 86400));
  r.inactive_timeout_s = static_cast<uint32_t>(ito);
  FLB_ASSIGN_OR_RETURN(r.managed, sa.boolean("managed"));
  FLB_ASSIGN_OR_RETURN(r.name, sa.str("name"));
  FLB_ASSIGN_OR_RETURN(int64_t oper, sa.num("oper", 0, 2));
  r.oper = static_cast<lb::RuleOper>(oper);

  FLB_ASSIGN_OR_RETURN(bool snat, sa.boolean("snat"));
  if (snat) return bad("serviceArguments.snat: egress SNAT rules are not supported");
  FLB_ASSIGN_OR_RETURN(bool egress, sa.boolean("egress"));
  if (egress) return bad("serviceArguments.egress: egress rules are not supported");
  FLB_ASSIGN_OR_RETURN(bool ppv2, sa.boolean("proxyprotocolv2"));
  if (ppv2) return bad("serviceArguments.proxyprotocolv2 is not supported");
  FLB_ASSIGN_OR_RETURN(int64_t security, sa.num("security", 0, 2));
  if (security != 0) return bad("serviceArguments.security: TLS termination is not supported");
  FLB_ASSIGN_OR_RETURN(std::string host, sa.str("host"));
  if (!host.empty()) return bad("serviceArguments.host: host/URL rules are not supported");

  Obj top(root, "");
  FLB_ASSIGN_OR_RETURN(const json* eps, top.array("endpoints"));
  if (eps == nullptr) return bad("endpoints is required");
  if (eps->size() > lb::kMaxEndpoints) {
    return bad("too many endpoints: " + std::to_string(eps->size()) + " (at most 32 per rule)");
  }
  for (size_t i = 0; i < eps->size(); ++i) {
    const auto& e = (*eps)[i];
    std::string path = "endpoints[" + std::to_string(i) + "].";
    if (!e.is_object()) return bad(path.substr(0, path.size() - 1) + " must be an object");
    Obj eo(e, path);
    lb::Endpoint ep;
    FLB_ASSIGN_OR_RETURN(ep.ip, eo.ip("endpointIP", true));
    FLB_ASSIGN_OR_RETURN(int64_t tp, eo.num("targetPort", 1, 65535, true));
    ep.target_port = static_cast<uint16_t>(tp);
    FLB_ASSIGN_OR_RETURN(int64_t w, eo.num("weight", 0, 255));
    ep.weight = static_cast<uint8_t>(eo.has("weight") ? w : 1);
    r.endpoints.push_back(ep);
  }
  FLB_ASSIGN_OR_RETURN(const json* sec, top.array("secondaryIPs"));
  if (sec != nullptr && !sec->empty()) return bad("secondaryIPs (SCTP multihoming) are not supported");
  FLB_ASSIGN_OR_RETURN(const json* srcs, top.array("allowedSources"));
  if (srcs != nullptr && !srcs->empty()) {
    return bad("allowedSources (source allow-lists) are not supported yet; the rule was not created");
  }
  return r;
}

json ruleToJson(const lb::RuleSpec& s, const std::vector<lb::EndpointStatus>* status) {
  json sa = json::object();
  sa["externalIP"] = s.key.external_ip.str();
  if (s.private_ip) sa["privateIP"] = s.private_ip->str();
  sa["port"] = s.key.port;
  sa["protocol"] = l4ProtoName(s.key.proto);
  if (s.key.block) sa["block"] = s.key.block;
  if (s.sel != lb::LbSel::kRr) sa["sel"] = static_cast<int>(s.sel);
  if (s.mode != lb::LbMode::kDefault) sa["mode"] = static_cast<int>(s.mode);
  if (s.bgp) sa["bgp"] = true;
  if (s.monitor) sa["monitor"] = true;
  sa["inactiveTimeOut"] = s.effectiveTimeout();
  if (s.managed) sa["managed"] = true;
  if (!s.probe.type.empty()) sa["probetype"] = s.probe.type;
  if (s.probe.port) sa["probeport"] = s.probe.port;
  if (!s.probe.request.empty()) sa["probereq"] = s.probe.request;
  if (!s.probe.response.empty()) sa["proberesp"] = s.probe.response;
  if (s.probe.interval_s) sa["probeTimeout"] = s.probe.interval_s;
  if (s.probe.retries) sa["probeRetries"] = s.probe.retries;
  if (!s.name.empty()) sa["name"] = s.name;
  json eps = json::array();
  if (status != nullptr) {
    for (const auto& e : *status) {
      eps.push_back({{"endpointIP", e.ep.ip.str()},
                     {"targetPort", e.ep.target_port},
                     {"weight", e.ep.weight},
                     {"state", e.healthy ? "active" : "inactive"},
                     {"counter", std::to_string(e.packets) + ":" + std::to_string(e.bytes)}});
    }
  } else {
    for (const auto& e : s.endpoints) {
      eps.push_back({{"endpointIP", e.ip.str()}, {"targetPort", e.target_port}, {"weight", e.weight}});
    }
  }
  json out = json::object();
  out["serviceArguments"] = std::move(sa);
  out["endpoints"] = std::move(eps);
  return out;
}

std::string ipOf(__be32 a) { return Ip4::fromNetwork(a).str(); }

}  // namespace

Result<lb::RuleSpec> parseLoadBalancerEntry(std::string_view body) {
  FLB_ASSIGN_OR_RETURN(json root, parseObject(body, "load-balancer request"));
  return ruleFromJson(root);
}

std::string encodeLoadBalancerList(const std::vector<lb::RuleStatus>& rules) {
  // One small tree per rule, dumped and dropped at once: with 2,000 rules one tree for the whole
  // answer costs more in allocation and freeing than the serialisation itself.
  std::string out = "{\"lbAttr\":[";
  out.reserve(256 * rules.size() + 16);
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i > 0) out += ',';
    out +=
        ruleToJson(rules[i].spec, &rules[i].endpoints).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out += "]}";
  return out;
}

Result<std::vector<lb::StoredRule>> parseRuleFile(std::string_view text) {
  FLB_ASSIGN_OR_RETURN(json root, parseObject(text, "rule file"));
  Obj top(root, "");
  FLB_ASSIGN_OR_RETURN(const json* rules, top.array("rules"));
  std::vector<lb::StoredRule> out;
  if (rules == nullptr) return out;
  for (size_t i = 0; i < rules->size(); ++i) {
    const auto& r = (*rules)[i];
    if (!r.is_object()) return bad("rules[" + std::to_string(i) + "] must be an object");
    Obj ro(r, "rules[" + std::to_string(i) + "].");
    FLB_ASSIGN_OR_RETURN(int64_t id, ro.num("ruleId", 0, FLB_MAX_RULES - 1, true));
    auto spec = ruleFromJson(r);
    if (!spec) return spec.error().wrap("rules[" + std::to_string(i) + "]");
    out.push_back(lb::StoredRule{static_cast<uint32_t>(id), *spec});
  }
  return out;
}

std::string encodeRuleFile(const std::vector<lb::StoredRule>& rules, bool one_line) {
  json arr = json::array();
  for (const auto& r : rules) {
    json j = ruleToJson(r.spec, nullptr);
    j["ruleId"] = r.rule_id;
    arr.push_back(j);
  }
  return json{{"version", 1}, {"rules", arr}}.dump(one_line ? -1 : 2, ' ', false,
                                                   json::error_handler_t::replace);
}

const char* ctStateName(uint8_t proto, uint8_t state) {
  if (proto == IPPROTO_UDP) return state == FLB_CT_ST_EST ? "udp-est" : "udp-uni";
  switch (state) {
    case FLB_CT_ST_SYN_SENT:
      return "sync-sent";
    case FLB_CT_ST_SYN_RECV:
      return "sync-ack";
    case FLB_CT_ST_EST:
      return "est";
    case FLB_CT_ST_FIN_WAIT:
      return "fini";
    case FLB_CT_ST_TIME_WAIT:
      return "closed-wait";
    case FLB_CT_ST_CLOSED:
      return "closed";
    default:
      return "unk";
  }
}

std::string ctActString(const dataplane::CtEntry& e, uint8_t weight) {
  const auto& v = e.value;
  const bool snat = v.nat.saddr != e.key.saddr;  // source rewritten too: one-arm or fullnat
  const std::string w = ":w" + std::to_string(weight);
  if (v.dir == FLB_CT_DIR_FWD) {
    std::string ep = ipOf(v.nat.daddr) + ":" + std::to_string(ntohs(v.nat.dport)) + w;
    return snat ? "fdnat-" + ipOf(v.nat.saddr) + "," + ep : "dnat-" + ep;
  }
  std::string back = ipOf(v.nat.saddr) + ":" + std::to_string(ntohs(v.nat.sport)) + w;
  return snat ? "fsnat-" + ipOf(e.key.saddr) + "," + back : "snat-" + back;
}

std::string encodeConntrack(const std::vector<CtRow>& rows) {
  json arr = json::array();
  for (const auto& r : rows) {
    const auto& k = r.entry.key;
    const auto& v = r.entry.value;
    const char* proto = k.proto == IPPROTO_UDP ? "udp" : k.proto == IPPROTO_TCP ? "tcp" : "other";
    arr.push_back({{"destinationIP", ipOf(k.daddr)},
                   {"sourceIP", ipOf(k.saddr)},
                   {"destinationPort", ntohs(k.dport)},
                   {"sourcePort", ntohs(k.sport)},
                   {"protocol", proto},
                   {"ident", "0:0"},
                   {"conntrackState", ctStateName(k.proto, v.state)},
                   {"conntrackAct", ctActString(r.entry, r.weight)},
                   {"packets", v.packets},
                   {"bytes", v.bytes},
                   {"servName", r.service_name.empty() ? "-" : r.service_name}});
  }
  return json{{"ctAttr", arr}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<CiStateRequest> parseCiState(std::string_view body) {
  FLB_ASSIGN_OR_RETURN(json root, parseObject(body, "cistate request"));
  Obj o(root, "");
  CiStateRequest req;
  FLB_ASSIGN_OR_RETURN(req.instance, o.str("instance"));
  if (req.instance.empty()) req.instance = "llb-inst0";
  FLB_ASSIGN_OR_RETURN(std::string state, o.str("state", true));
  FLB_ASSIGN_OR_RETURN(req.state, ha::parseCiState(state));
  FLB_ASSIGN_OR_RETURN(req.vip, o.ip("vip", false));
  return req;
}

std::string encodeCiStates(const std::vector<ha::CiInstance>& all) {
  json arr = json::array();
  for (const auto& ci : all) {
    arr.push_back({{"instance", ci.name},
                   {"state", ha::ciStateName(ci.state)},
                   {"vip", ci.vip.str()},
                   {"sync", nullptr}});
  }
  return json{{"Attr", arr}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encodeEndpoints(const std::vector<EndpointRow>& rows) {
  json arr = json::array();
  for (const auto& r : rows) {
    json j = {{"hostName", r.host},           {"name", r.name},
              {"probeType", r.probe_type},    {"probeReq", r.probe_req},
              {"probePort", r.probe_port},    {"probeDuration", r.probe_duration},
              {"inactiveReTries", r.retries}, {"minDelay", r.min_delay},
              {"avgDelay", r.avg_delay},      {"maxDelay", r.max_delay},
              {"currState", r.state}};
    arr.push_back(j);
  }
  return json{{"Attr", arr}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<lb::ProbeConfig> parseEndpointEntry(std::string_view body) {
  FLB_ASSIGN_OR_RETURN(json root, parseObject(body, "endpoint request"));
  Obj o(root, "");
  lb::ProbeConfig c;
  FLB_ASSIGN_OR_RETURN(c.key.ip, o.ip("hostName", true));
  FLB_ASSIGN_OR_RETURN(c.key.type, o.str("probeType"));
  c.key.type = lower(c.key.type);
  if (c.key.type.empty()) c.key.type = "ping";
  if (c.key.type != "tcp" && c.key.type != "udp" && c.key.type != "http" && c.key.type != "ping") {
    return bad("probeType '" + c.key.type + "' is not supported (tcp, udp, http, ping)");
  }
  FLB_ASSIGN_OR_RETURN(int64_t port, o.num("probePort", 0, 65535));
  c.key.port = static_cast<uint16_t>(port);
  if (c.key.type != "ping" && c.key.port == 0)
    return bad("probePort is required for probeType " + c.key.type);
  if (c.key.type == "ping" && c.key.port != 0) return bad("probePort must be 0 for probeType ping");
  FLB_ASSIGN_OR_RETURN(c.request, o.str("probeReq"));
  FLB_ASSIGN_OR_RETURN(c.response, o.str("probeResp"));
  FLB_ASSIGN_OR_RETURN(int64_t dur, o.num("probeDuration", 0, 86400));
  c.interval_s = dur ? static_cast<uint32_t>(dur) : lb::kDefaultProbeIntervalS;
  FLB_ASSIGN_OR_RETURN(int64_t ret, o.num("inactiveReTries", 0, 100));
  c.retries = ret ? static_cast<uint32_t>(ret) : lb::kDefaultProbeRetries;
  return c;
}

std::string encodeBfd(const std::string& instance, const ha::KaConfig& ka, const ha::HeartbeatStats& st) {
  json row = {{"instance", instance},
              {"remoteIp", ka.remote.str()},
              {"sourceIP", ka.source.str()},
              {"port", ka.port},
              {"interval", ka.interval_us},
              {"retryCount", ka.multiplier},
              {"state", st.peer_alive ? "BFDUp" : "BFDDown"},
              {"role", st.role},
              {"epoch", st.epoch},
              {"peerState", st.peer_state},
              {"peerEpoch", st.peer_epoch},
              {"lastHeartbeatMs", st.last_rx_wall_ms},
              {"sent", st.sent},
              {"received", st.received},
              {"rejected", st.rejected}};
  return json{{"Attr", json::array({row})}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encodeHaPeers(const std::string& instance, const ha::CiInstance& self,
                          const ha::HeartbeatStats* hb, const std::vector<ha::SyncPeerStats>& sync,
                          uint64_t takeovers_out_of_sync) {
  json peers = json::array();
  for (const auto& p : sync) {
    json j = {{"peer", p.peer.str()},
              {"sending", p.sending},
              {"receiving", p.receiving},
              {"inSync", p.in_sync},
              {"entriesSent", p.entries_sent},
              {"entriesReceived", p.entries_received},
              {"entriesSkipped", p.entries_skipped},
              {"syncLagMs", p.lag_ms},
              {"lastSyncRxMs", p.last_rx_wall_ms}};
    if (hb) {
      j["heartbeat"] = {{"alive", hb->peer_alive},
                        {"state", hb->peer_state},
                        {"epoch", hb->peer_epoch},
                        {"lastHeartbeatMs", hb->last_rx_wall_ms}};
    }
    peers.push_back(j);
  }
  json out = {{"instance", instance},
              {"state", ha::ciStateName(self.state)},
              {"transitions", self.transitions},
              {"changedMs", self.changed_wall_ms},
              {"takeoversOutOfSync", takeovers_out_of_sync},
              {"peers", peers}};
  if (hb) out["epoch"] = hb->epoch;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encodeResult(std::string_view result) {
  return json{{"result", std::string(result)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encodeError(int http_code, std::string_view message) {
  return json{{"code", http_code}, {"message", std::string(message)}, {"result", std::string(message)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

}  // namespace floatlb::api

namespace floatlb::api {

std::string encodeVersion(std::string_view version, std::string_view build_info) {
  nlohmann::ordered_json j = {{"version", std::string(version)}, {"buildInfo", std::string(build_info)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace floatlb::api
