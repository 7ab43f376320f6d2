#include "health/endpoint_json.h"

#include <nlohmann/json.hpp>

namespace floatlb::health {

std::string endpointsJson(const std::vector<EndpointStatus>& snapshot) {
  nlohmann::ordered_json attr = nlohmann::ordered_json::array();
  for (const auto& s : snapshot) {
    auto delay = [](const std::optional<Duration>& d) { return goDurationString(d.value_or(Duration{0})); };
    nlohmann::ordered_json e;
    e["hostName"] = s.key.ip.str();
    e["name"] = s.name;
    e["probeType"] = probeTypeName(s.key.type);
    if (s.key.type != ProbeType::kNone) {
      e["inactiveReTries"] = s.retries;
      e["probeDuration"] = std::chrono::duration_cast<std::chrono::seconds>(s.interval).count();
    }
    e["probePort"] = s.key.port;
    e["probeReq"] = s.request;
    e["minDelay"] = delay(s.min_rtt);
    e["avgDelay"] = delay(s.avg_rtt);
    e["maxDelay"] = delay(s.max_rtt);
    e["currState"] = s.healthy ? "ok" : "nok";
    attr.push_back(std::move(e));
  }
  return nlohmann::ordered_json{{"Attr", attr}}.dump();
}

}  // namespace floatlb::health
