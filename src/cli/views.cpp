#include "cli/views.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "cli/table.h"

namespace floatlb::cli {
namespace {

using Json = nlohmann::ordered_json;

Result<Json> parse(const std::string& body) {
  try {
    return Json::parse(body);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidArgument, std::string("invalid JSON from server: ") + e.what());
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Field lookup with Go encoding/json semantics: exact key first, then case-insensitive.
const Json* field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it != obj.end()) return &*it;
  for (auto i = obj.begin(); i != obj.end(); ++i) {
    if (iequals(i.key(), key)) return &i.value();
  }
  return nullptr;
}

std::string str(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

int64_t num(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (v == nullptr) return 0;
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_float()) return static_cast<int64_t>(v->get<double>());
  if (v->is_string()) {
    try {
      return std::stoll(v->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

uint64_t unum(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (v != nullptr && v->is_number_unsigned()) return v->get<uint64_t>();
  return static_cast<uint64_t>(num(obj, key));
}

bool boolean(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

const Json& list(const Json& obj, std::string_view key) {
  static const Json kEmpty = Json::array();
  const Json* v = field(obj, key);
  return (v != nullptr && v->is_array()) ? *v : kEmpty;
}

std::string port5(int64_t p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%05lld", static_cast<long long>(p));
  return buf;
}

const char* selName(int64_t sel) {
  switch (sel) {
    case 1:
      return "hash";
    case 2:
      return "priority";
    case 3:
      return "persist";
    case 4:
      return "lc";
    case 5:
      return "n2";
    case 6:
      return "n3";
    default:
      return "rr";
  }
}

const char* modeName(int64_t mode) {
  switch (mode) {
    case 1:
      return "onearm";
    case 2:
      return "fullnat";
    case 3:
      return "dsr";
    case 4:
      return "fullproxy";
    case 5:
      return "hostonearm";
    default:
      return "default";
  }
}

std::string joinField(const Json& arr, std::string_view key) {
  std::string out;
  for (const auto& e : arr) {
    if (!out.empty()) out += ", ";
    out += str(e, key);
  }
  return out;
}

// Stable sort of JSON objects by a string key, as loxicmd's Sort() does.
template <class KeyFn>
std::vector<const Json*> sortedBy(const Json& arr, KeyFn key) {
  std::vector<std::pair<std::string, const Json*>> keyed;
  for (const auto& e : arr) keyed.emplace_back(key(e), &e);
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Json*> out;
  for (auto& [k, p] : keyed) out.push_back(p);
  return out;
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "request failed";
  }
}

}  // namespace

Result<std::string> prettyJson(const std::string& body) {
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  return j.dump(4) + "\n";
}

Result<std::string> renderLoadBalancers(const std::string& body, OutputFormat format,
                                        const std::string& serv_name) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  auto rules = sortedBy(list(j, "lbAttr"), [](const Json& r) {
    const Json* s = field(r, "serviceArguments");
    const Json& svc = s != nullptr ? *s : r;
    return str(svc, "externalIP") + "|" + port5(num(svc, "port")) + "|" + str(svc, "protocol");
  });
  Table table;
  for (const Json* rule : rules) {
    const Json* s = field(*rule, "serviceArguments");
    if (s == nullptr) continue;
    const Json& svc = *s;
    if ((!serv_name.empty() && str(svc, "name") != serv_name) || boolean(svc, "snat")) continue;
    std::string port = std::to_string(num(svc, "port"));
    if (num(svc, "portMax") > 0) port += "-" + std::to_string(num(svc, "portMax"));
    std::string proto = str(svc, "protocol");
    if (num(svc, "security") == 1) proto += ":https";
    if (num(svc, "security") == 2) proto += ":e2ehttps";
    std::string mode = modeName(num(svc, "mode"));
    if (boolean(svc, "proxyprotocolv2")) mode += ":ppv2";
    if (boolean(svc, "egress")) mode += ":egress";
    const bool monitor = boolean(svc, "monitor");
    const Json& eps = list(*rule, "endpoints");
    if (format == OutputFormat::kWide) {
      table.setHeader({"Ext IP", "Sec IPs", "Sources", "Host", "Port", "Proto", "Name", "Mark", "Sel", "Mode",
                       "Endpoint", "EPort", "Weight", "State", "Counters"});
      bool first = true;
      for (const auto& ep : eps) {
        std::vector<std::string> row;
        if (first) {
          row = {str(svc, "externalIP"),
                 joinField(list(*rule, "secondaryIPs"), "secondaryIP"),
                 joinField(list(*rule, "allowedSources"), "prefix"),
                 str(svc, "host"),
                 port,
                 proto,
                 str(svc, "name"),
                 std::to_string(num(svc, "block")),
                 selName(num(svc, "sel")),
                 mode};
        } else {
          row.assign(10, "");
        }
        first = false;
        row.push_back(str(ep, "endpointIP"));
        row.push_back(std::to_string(num(ep, "targetPort")));
        row.push_back(std::to_string(num(ep, "weight")));
        row.push_back(monitor ? str(ep, "state") : "-");
        row.push_back(str(ep, "counter"));
        table.append(std::move(row));
      }
    } else {
      table.setHeader(
          {"Ext IP", "Port", "Proto", "Name", "Mark", "Sel", "Mode", "# of Endpoints", "Timeout", "Monitor"});
      table.append({str(svc, "externalIP"), port, proto, str(svc, "name"), std::to_string(num(svc, "block")),
                    selName(num(svc, "sel")), mode, std::to_string(eps.size()),
                    std::to_string(num(svc, "inactiveTimeOut")), monitor ? "On" : "Off"});
    }
  }
  return table.render();
}

Result<std::string> renderConntrack(const std::string& body, OutputFormat format,
                                    const std::string& serv_name) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  auto entries = sortedBy(list(j, "ctAttr"), [](const Json& c) {
    return str(c, "destinationIP") + "|" + str(c, "sourceIP") + "|" + port5(num(c, "destinationPort")) + "|" +
           port5(num(c, "sourcePort")) + "|" + str(c, "protocol");
  });
  Table table;
  table.setHeader({"Service Name", "destIP", "srcIP", "dport", "sport", "proto", "ident", "state", "act",
                   "packets", "bytes"});
  for (const Json* c : entries) {
    if (!serv_name.empty() && str(*c, "servName") != serv_name) continue;
    table.append({str(*c, "servName"), str(*c, "destinationIP"), str(*c, "sourceIP"),
                  std::to_string(num(*c, "destinationPort")), std::to_string(num(*c, "sourcePort")),
                  str(*c, "protocol"), str(*c, "ident"), str(*c, "conntrackState"), str(*c, "conntrackAct"),
                  std::to_string(unum(*c, "packets")), std::to_string(unum(*c, "bytes"))});
  }
  return table.render();
}

Result<std::string> renderHaState(const std::string& body, OutputFormat format) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  auto entries = sortedBy(list(j, "Attr"), [](const Json& e) { return str(e, "instance"); });
  Table table;
  table.setHeader({"Instance", "HAState"});
  for (const Json* e : entries) table.append({str(*e, "instance"), str(*e, "state")});
  return table.render();
}

Result<std::string> renderEndpoints(const std::string& body, OutputFormat format) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  auto entries = sortedBy(list(j, "Attr"), [](const Json& e) {
    return str(e, "hostName") + "|" + port5(num(e, "probePort")) + "|" + str(e, "probeType") + "|" +
           str(e, "name");
  });
  Table table;
  for (const Json* e : entries) {
    table.setHeader({"Host", "Name", "ptype", "port", "duration", "retries", "minDelay", "avgDelay",
                     "maxDelay", "State"});
    table.append({str(*e, "hostName"), str(*e, "name"), str(*e, "probeType") + ":" + str(*e, "probeReq"),
                  std::to_string(num(*e, "probePort")), std::to_string(num(*e, "probeDuration")),
                  std::to_string(num(*e, "inactiveReTries")), str(*e, "minDelay"), str(*e, "avgDelay"),
                  str(*e, "maxDelay"), str(*e, "currState")});
  }
  return table.render();
}

Result<std::string> renderBfd(const std::string& body, OutputFormat format) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  Table table;
  for (const auto& b : list(j, "Attr")) {
    if (format == OutputFormat::kWide) {
      table.setHeader({"Instance", "RemoteIP", "SourceIP", "Port", "Interval", "Retry Count", "State"});
      table.append({str(b, "instance"), str(b, "remoteIp"), str(b, "sourceIP"),
                    std::to_string(num(b, "port")), std::to_string(num(b, "interval")) + " us",
                    std::to_string(num(b, "retryCount")), str(b, "state")});
    } else {
      table.setHeader({"Instance", "RemoteIP", "State"});
      table.append({str(b, "instance"), str(b, "remoteIp"), str(b, "state")});
    }
  }
  return table.render();
}

Result<std::string> renderHaPeers(const std::string& body, OutputFormat format) {
  if (format == OutputFormat::kJson) return prettyJson(body);
  FLB_ASSIGN_OR_RETURN(Json j, parse(body));
  Table table;
  table.setHeader({"Instance", "State", "Epoch", "Peer", "Peer State", "Heartbeat", "Sync", "In Sync", "Sent",
                   "Received", "Lag ms"});
  for (const auto& p : list(j, "peers")) {
    std::string hb = "-", peer_state = "-";
    if (p.contains("heartbeat")) {
      const Json& h = p.at("heartbeat");
      hb = h.value("alive", false) ? "up" : "down";
      peer_state = str(h, "state");
    }
    std::string sync = p.value("sending", false) ? "sending" : p.value("receiving", false) ? "receiving" : "idle";
    const int64_t lag = p.value("syncLagMs", int64_t{-1});
    table.append({str(j, "instance"), str(j, "state"), std::to_string(num(j, "epoch")), str(p, "peer"), peer_state,
                  hb, sync, p.value("inSync", false) ? "yes" : "no", std::to_string(num(p, "entriesSent")),
                  std::to_string(num(p, "entriesReceived")), lag < 0 ? "-" : std::to_string(lag)});
  }
  return table.render();
}

std::string errorLine(int status, const std::string& body) {
  std::string text;
  try {
    Json j = Json::parse(body);
    std::string message = str(j, "message");
    std::string result = str(j, "result");
    text = message;
    if (text.empty()) {
      text = result;
    } else if (!result.empty() && result != message) {
      text += " (" + result + ")";
    }
  } catch (const std::exception&) {
    text = body;
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 300) text = text.substr(0, 297) + "...";
  if (text.empty()) text = reasonPhrase(status);
  return text + " (HTTP " + std::to_string(status) + ")";
}

}  // namespace floatlb::cli
