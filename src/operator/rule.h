// The load-balancer rule kube-floatlb sends to every floatlb instance: the exact REST body
// kube-loxilb sends (kube-loxilb.md §7.2, key order included), the DELETE path (§7.3), and the
// parser of GET /config/loadbalancer/all used by the drift check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net.h"
#include "common/result.h"

namespace floatlb::kube {

struct LbEndpoint {
  Ip4 ip;
  uint16_t port = 0;
  auto operator<=>(const LbEndpoint&) const = default;
};

struct LbRule {
  Ip4 external_ip;
  std::optional<Ip4> private_ip;
  uint16_t port = 0;
  std::string protocol = "tcp";
  int sel = 0;
  int mode = 0;
  bool monitor = false;
  uint32_t timeout = 1800;
  std::string probe_type;
  uint16_t probe_port = 0;
  std::string probe_req, probe_resp;
  uint32_t probe_timeout = 0, probe_retries = 0;
  std::string name;  // <ns>_<svc>:<zone>-inst0
  std::vector<LbEndpoint> endpoints;
  std::vector<std::string> allowed_sources;  // spec.loadBalancerSourceRanges

  // Identity on an instance: "<ip>:<port>/<proto>".
  [[nodiscard]] std::string key() const;
  // Same rule as far as the instance's behaviour goes (the drift comparison).
  [[nodiscard]] bool sameAs(const LbRule& other) const;
};

std::string ruleName(const std::string& ns, const std::string& svc, const std::string& zone);
// The Service key "ns/svc" a rule name of ours belongs to, or nullopt for a rule we do not own.
std::optional<std::string> ownerOf(const std::string& rule_name, const std::string& zone);

// POST /netlox/v1/config/loadbalancer body, byte-identical to kube-loxilb's.
std::string encodeRule(const LbRule& r);
// DELETE path (after the base URL) of a rule.
std::string deletePath(const LbRule& r);
// GET /netlox/v1/config/loadbalancer/all -> rules. Tolerant of floatlb's and loxilb's shapes.
Result<std::vector<LbRule>> parseRuleList(const std::string& body);

}  // namespace floatlb::kube
