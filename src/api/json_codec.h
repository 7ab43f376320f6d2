// JSON <-> model for the REST API and the rule file (LoxiLB-compatible shapes, loxilb.md §5).
// Parsing is strict about types and values and lenient about key case (kube-loxilb sends "BGP",
// "Monitor"); unknown keys are ignored. nlohmann/json stays inside json_codec.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/datapath.h"
#include "ha/ci_state.h"
#include "ha/heartbeat_service.h"
#include "ha/sync_service.h"
#include "lb/rule_manager.h"

namespace floatlb::api {

// POST /config/loadbalancer body (LoadbalanceEntry).
Result<lb::RuleSpec> parseLoadBalancerEntry(std::string_view body);
// GET /config/loadbalancer/all
std::string encodeLoadBalancerList(const std::vector<lb::RuleStatus>& rules);

// The rule file under --config-path: {"version":1,"rules":[{"ruleId":N, <LoadbalanceEntry>}]}.
Result<std::vector<lb::StoredRule>> parseRuleFile(std::string_view text);
std::string encodeRuleFile(const std::vector<lb::StoredRule>& rules);

// GET /config/conntrack/all. `name_of` maps a rule id to its name ("-" if unknown).
struct CtRow {
  dataplane::CtEntry entry;
  std::string service_name;
  uint8_t weight = 0;
};
std::string encodeConntrack(const std::vector<CtRow>& rows);
const char* ctStateName(uint8_t proto, uint8_t state);
std::string ctActString(const dataplane::CtEntry& e, uint8_t weight);

// cistate
struct CiStateRequest {
  std::string instance;
  ha::CiState state;
  Ip4 vip;
};
Result<CiStateRequest> parseCiState(std::string_view body);
std::string encodeCiStates(const std::vector<ha::CiInstance>& all);

// Endpoint health rows (GET /config/endpoint/all) and the POST /config/endpoint body.
struct EndpointRow {
  std::string host;
  std::string name;
  std::string probe_type;
  std::string probe_req;
  uint16_t probe_port = 0;
  uint32_t probe_duration = 0;
  uint32_t retries = 0;
  std::string min_delay, avg_delay, max_delay;
  std::string state;  // ok | nok
};
std::string encodeEndpoints(const std::vector<EndpointRow>& rows);
Result<lb::ProbeConfig> parseEndpointEntry(std::string_view body);

// GET /config/bfd/all (reference shape plus floatlb's election details) and /config/ha/peers.
std::string encodeBfd(const std::string& instance, const ha::KaConfig& ka, const ha::HeartbeatStats& st);
std::string encodeHaPeers(const std::string& instance, const ha::CiInstance& self, const ha::HeartbeatStats* hb,
                          const std::vector<ha::SyncPeerStats>& sync, uint64_t takeovers_out_of_sync);

std::string encodeResult(std::string_view result);  // {"result":"Success"}
std::string encodeVersion(std::string_view version, std::string_view build_info);  // GET /version
std::string encodeError(int http_code, std::string_view message);

}  // namespace floatlb::api
