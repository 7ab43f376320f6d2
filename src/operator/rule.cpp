#include "operator/rule.h"

#include <algorithm>
#include <cctype>

#include "k8s/json.h"

namespace floatlb::kube {

using k8s::Json;

std::string LbRule::key() const { return external_ip.str() + ":" + std::to_string(port) + "/" + protocol; }

bool LbRule::sameAs(const LbRule& o) const {
  auto sorted = [](std::vector<LbEndpoint> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  Ip4 a = private_ip.value_or(Ip4()), b = o.private_ip.value_or(Ip4());
  return external_ip == o.external_ip && a == b && port == o.port && protocol == o.protocol && sel == o.sel &&
         mode == o.mode && monitor == o.monitor && timeout == o.timeout && probe_type == o.probe_type &&
         probe_port == o.probe_port && probe_req == o.probe_req && probe_resp == o.probe_resp &&
         name == o.name && sorted(endpoints) == sorted(o.endpoints);
}

std::string ruleName(const std::string& ns, const std::string& svc, const std::string& zone) {
  return ns + "_" + svc + ":" + zone + "-inst0";
}

std::optional<std::string> ownerOf(const std::string& rule_name, const std::string& zone) {
  auto colon = rule_name.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string inst = rule_name.substr(colon + 1);
  std::string prefix = zone + "-inst";
  if (inst.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string head = rule_name.substr(0, colon);
  auto us = head.find('_');  // namespaces cannot contain '_' (DNS labels)
  if (us == std::string::npos || us == 0 || us + 1 >= head.size()) return std::nullopt;
  return head.substr(0, us) + "/" + head.substr(us + 1);
}

std::string encodeRule(const LbRule& r) {
  nlohmann::ordered_json sa;
  sa["externalIP"] = r.external_ip.str();
  sa["privateIP"] = r.private_ip ? r.private_ip->str() : "";
  sa["port"] = r.port;
  sa["protocol"] = r.protocol;
  sa["sel"] = r.sel;
  sa["mode"] = r.mode;
  sa["BGP"] = false;
  sa["Monitor"] = r.monitor;
  sa["inactiveTimeOut"] = r.timeout;
  sa["block"] = 0;
  sa["managed"] = true;
  sa["probetype"] = r.probe_type;
  sa["probeport"] = r.probe_port;
  sa["probereq"] = r.probe_req;
  sa["proberesp"] = r.probe_resp;
  if (r.probe_retries != 0) sa["probeRetries"] = r.probe_retries;
  if (r.probe_timeout != 0) sa["probeTimeout"] = r.probe_timeout;
  sa["name"] = r.name;
  nlohmann::ordered_json body;
  body["serviceArguments"] = sa;
  body["secondaryIPs"] = nlohmann::ordered_json::array();
  auto srcs = nlohmann::ordered_json::array();
  for (const auto& a : r.allowed_sources) srcs.push_back({{"prefix", a}});
  body["allowedSources"] = srcs;
  auto eps = nlohmann::ordered_json::array();
  for (const auto& e : r.endpoints) {
    nlohmann::ordered_json ep;
    ep["endpointIP"] = e.ip.str();
    ep["targetPort"] = e.port;
    ep["weight"] = 1;
    ep["state"] = "";
    ep["counter"] = "";
    eps.push_back(ep);
  }
  body["endpoints"] = eps;
  return body.dump();
}

std::string deletePath(const LbRule& r) {
  return "/netlox/v1/config/loadbalancer/externalipaddress/" + r.external_ip.str() + "/port/" +
         std::to_string(r.port) + "/protocol/" + r.protocol + "?bgp=false&block=0";
}

namespace {

// Case-insensitive member lookup: floatlb writes "monitor", loxilb "Monitor".
const Json* field(const Json& o, const std::string& key) {
  if (!o.is_object()) return nullptr;
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return &it.value();
    }
  }
  return nullptr;
}

int64_t num(const Json& o, const std::string& key) { return k8s::integer(field(o, key)).value_or(0); }

}  // namespace

Result<std::vector<LbRule>> parseRuleList(const std::string& body) {
  auto root = k8s::parseJson(body);
  if (!root || !root->is_object())
    return makeError(ErrorCode::kInvalidArgument, "rule list is not a JSON object");
  std::vector<LbRule> out;
  const Json* list = field(*root, "lbAttr");
  if (list == nullptr || list->is_null()) return out;
  if (!list->is_array()) return makeError(ErrorCode::kInvalidArgument, "lbAttr is not an array");
  for (const auto& e : *list) {
    const Json* sa = field(e, "serviceArguments");
    if (sa == nullptr) continue;
    LbRule r;
    auto ip = Ip4::parse(k8s::str(field(*sa, "externalIP")));
    if (!ip) continue;
    r.external_ip = *ip;
    if (auto p = Ip4::parse(k8s::str(field(*sa, "privateIP"))); p && !p->isUnspecified()) r.private_ip = *p;
    r.port = static_cast<uint16_t>(num(*sa, "port"));
    r.protocol = k8s::str(field(*sa, "protocol"), "tcp");
    std::transform(r.protocol.begin(), r.protocol.end(), r.protocol.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    r.sel = static_cast<int>(num(*sa, "sel"));
    r.mode = static_cast<int>(num(*sa, "mode"));
    r.monitor = k8s::boolean(field(*sa, "monitor")).value_or(false);
    r.timeout = static_cast<uint32_t>(num(*sa, "inactiveTimeOut"));
    if (r.timeout == 0) r.timeout = 1800;
    r.probe_type = k8s::str(field(*sa, "probetype"));
    r.probe_port = static_cast<uint16_t>(num(*sa, "probeport"));
    r.probe_req = k8s::str(field(*sa, "probereq"));
    r.probe_resp = k8s::str(field(*sa, "proberesp"));
    r.name = k8s::str(field(*sa, "name"));
    if (const Json* eps = field(e, "endpoints"); eps != nullptr && eps->is_array()) {
      for (const auto& ep : *eps) {
        auto eip = Ip4::parse(k8s::str(field(ep, "endpointIP")));
        if (!eip) continue;
        r.endpoints.push_back({*eip, static_cast<uint16_t>(num(ep, "targetPort"))});
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace floatlb::kube
