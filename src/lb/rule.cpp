#include "lb/rule.h"

#include <set>

namespace floatlb::lb {

const char* modeName(LbMode m) {
  switch (m) {
    case LbMode::kDefault: return "default";
    case LbMode::kOneArm: return "onearm";
    case LbMode::kFullNat: return "fullnat";
  }
  return "unknown";
}

const char* selName(LbSel s) {
  switch (s) {
    case LbSel::kRr: return "rr";
    case LbSel::kHash: return "hash";
    case LbSel::kPriority: return "priority";
    case LbSel::kPersist: return "persist";
    case LbSel::kLeastConn: return "lc";
  }
  return "unknown";
}

Result<LbMode> parseModeName(std::string_view n) {
  if (n == "default" || n == "dnat") return LbMode::kDefault;
  if (n == "onearm") return LbMode::kOneArm;
  if (n == "fullnat") return LbMode::kFullNat;
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown mode '" + std::string(n) + "' (supported: default, onearm, fullnat)");
}

Result<LbSel> parseSelName(std::string_view n) {
  if (n == "rr" || n == "roundrobin") return LbSel::kRr;
  if (n == "hash") return LbSel::kHash;
  if (n == "priority") return LbSel::kPriority;
  if (n == "persist") return LbSel::kPersist;
  if (n == "lc") return LbSel::kLeastConn;
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown selection '" + std::string(n) + "' (supported: rr, hash, priority, persist, lc)");
}

std::string ServiceKey::str() const {
  std::string s = external_ip.str() + ":" + std::to_string(port) + "/" + l4ProtoName(proto);
  if (block != 0) s += " block " + std::to_string(block);
  return s;
}

std::string RuleSpec::haInstance() const {
  auto colon = name.find(':');
  if (colon == std::string::npos || colon + 1 == name.size()) return kDefaultHaInstance;
  return name.substr(colon + 1);
}

uint32_t RuleSpec::effectiveTimeout() const {
  if (inactive_timeout_s != 0) return inactive_timeout_s;
  return key.proto == L4Proto::kUdp ? kDefaultUdpTimeoutS : kDefaultTcpTimeoutS;
}

std::string RuleSpec::effectiveProbeType() const {
  if (!probe.type.empty()) return probe.type;
  return key.proto == L4Proto::kUdp ? "udp" : "tcp";
}

bool RuleSpec::probesActive() const {
  if (probe.type == "none") return false;
  return monitor || !probe.type.empty() || mode == LbMode::kOneArm || mode == LbMode::kFullNat;
}

uint16_t RuleSpec::effectiveProbePort(const Endpoint& ep) const {
  return probe.port != 0 ? probe.port : ep.target_port;
}

uint32_t RuleSpec::effectiveProbeInterval() const {
  return probe.interval_s != 0 ? probe.interval_s : kDefaultProbeIntervalS;
}

uint32_t RuleSpec::effectiveProbeRetries() const {
  return probe.retries != 0 ? probe.retries : kDefaultProbeRetries;
}

namespace {
Status invalid(std::string msg) { return makeError(ErrorCode::kInvalidArgument, std::move(msg)); }
}  // namespace

Status validateRule(const RuleSpec& r) {
  if (r.key.external_ip.isUnspecified()) {
    return invalid("serviceArguments.externalIP 0.0.0.0 is not supported (hostonearm/egress rules are not implemented)");
  }
  if (r.key.port == 0) return invalid("serviceArguments.port must be 1..65535");
  if (r.key.proto != L4Proto::kTcp && r.key.proto != L4Proto::kUdp) {
    return invalid(std::string("protocol ") + l4ProtoName(r.key.proto) + " is not supported (tcp and udp are)");
  }
  if (r.oper == RuleOper::kCreate && r.endpoints.empty()) {
    return invalid("a rule needs at least one endpoint");
  }
  if (r.endpoints.size() > kMaxEndpoints) {
    return invalid("too many endpoints: " + std::to_string(r.endpoints.size()) + " (at most " +
                   std::to_string(kMaxEndpoints) + " per rule)");
  }
  std::set<std::pair<Ip4, uint16_t>> seen;
  for (const auto& ep : r.endpoints) {
    if (ep.ip.isUnspecified()) return invalid("endpoint address 0.0.0.0 is not valid");
    if (ep.target_port == 0) return invalid("endpoint " + ep.ip.str() + ": targetPort must be 1..65535");
    if (!seen.insert({ep.ip, ep.target_port}).second) {
      return invalid("endpoint " + ep.ip.str() + ":" + std::to_string(ep.target_port) + " is listed twice");
    }
  }
  if (r.inactive_timeout_s > kMaxTimeoutS) {
    return invalid("inactiveTimeOut " + std::to_string(r.inactive_timeout_s) + " is out of range (max 86400)");
  }
  const auto& pt = r.probe.type;
  if (!pt.empty() && pt != "tcp" && pt != "udp" && pt != "http" && pt != "https" && pt != "ping" && pt != "none") {
    return invalid("unknown probetype '" + pt + "' (tcp, udp, http, https, ping, none)");
  }
  if (pt == "https") return invalid("probetype https is not supported yet (use http or tcp)");
  if ((pt == "ping" || pt == "none") && r.probe.port != 0) {
    return invalid("probeport must be 0 for probetype " + pt);
  }
  if (r.probe.retries > 100) return invalid("probeRetries must be at most 100");
  if (r.probe.interval_s > kMaxTimeoutS) return invalid("probeTimeout must be at most 86400");
  return okStatus();
}

}  // namespace floatlb::lb
