#include "cloud/takeover/timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/metrics.h"

namespace floatlb::cloud::takeover {

namespace {

template <class Pred>
size_t countCalls(const std::vector<TakeoverCall>& calls, Pred&& pred) {
  return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), pred));
}

nlohmann::json optMs(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

bool isDescribe(const std::string& action) { return action.rfind("Describe", 0) == 0; }

size_t TakeoverTimeline::criticalCalls() const {
  return countCalls(calls, [](const auto& c) { return c.critical; });
}

size_t TakeoverTimeline::criticalSerialCalls() const {
  return countCalls(calls, [](const auto& c) { return c.critical && !c.concurrent; });
}

size_t TakeoverTimeline::criticalPolls() const {
  return countCalls(calls, [](const auto& c) { return c.critical && c.poll; });
}

size_t TakeoverTimeline::criticalMutations() const {
  return countCalls(calls, [](const auto& c) { return c.critical && !isDescribe(c.action); });
}

size_t TakeoverTimeline::criticalReads() const {
  return countCalls(calls, [](const auto& c) { return c.critical && isDescribe(c.action); });
}

std::string TakeoverTimeline::json() const {
  nlohmann::json j;
  j["reason"] = reason;
  j["mode"] = mode;
  j["detectedWallMs"] = detectedWallMs;
  j["restoredMs"] = optMs(restoredMs);
  j["doneMs"] = optMs(doneMs);
  j["cycles"] = cycles;
  j["converged"] = converged;
  j["criticalCalls"] = criticalCalls();
  j["criticalSerialCalls"] = criticalSerialCalls();
  j["criticalMutations"] = criticalMutations();
  j["criticalPolls"] = criticalPolls();
  j["criticalReads"] = criticalReads();
  j["error"] = error;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& c : calls) {
    nlohmann::json o = {{"action", c.action},       {"target", c.target}, {"startMs", c.startMs},
                        {"latencyMs", c.latencyMs}, {"ok", c.ok},         {"critical", c.critical},
                        {"cycle", c.cycle}};
    if (c.concurrent) o["concurrent"] = true;
    if (c.poll) o["poll"] = true;
    if (c.attempts > 1) o["attempts"] = c.attempts;
    if (!c.ok) o["error"] = c.error;
    arr.push_back(std::move(o));
  }
  j["calls"] = std::move(arr);
  j["steps"] = log;
  // Invalid UTF-8 from an AWS error message must not throw: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void TakeoverTimeline::appendMetrics(MetricsWriter& w) const {
  using T = MetricType;
  w.family("floatlb_cloud_takeover_restore_ms", T::kGauge,
           "Last takeover: detection to traffic restored (ms), -1 if not restored.");
  w.sample("floatlb_cloud_takeover_restore_ms", static_cast<double>(restoredMs.value_or(-1)));
  w.family("floatlb_cloud_takeover_done_ms", T::kGauge,
           "Last takeover: detection to converged (ms), -1 if not converged.");
  w.sample("floatlb_cloud_takeover_done_ms", static_cast<double>(doneMs.value_or(-1)));
  const std::pair<const char*, size_t> counts[] = {{"critical_calls", criticalCalls()},
                                                   {"critical_serial_calls", criticalSerialCalls()},
                                                   {"critical_mutations", criticalMutations()},
                                                   {"critical_polls", criticalPolls()},
                                                   {"critical_reads", criticalReads()}};
  for (const auto& [name, value] : counts) {
    const std::string fam = std::string("floatlb_cloud_takeover_") + name;
    w.family(fam, T::kGauge, std::string("Last takeover: EC2 ") + name + " before traffic was restored.");
    w.sample(fam, static_cast<double>(value));
  }
  w.family("floatlb_cloud_takeover_info", T::kGauge, "Last takeover: its cloud mode and reason (always 1).");
  w.sample("floatlb_cloud_takeover_info", {{"mode", mode}, {"reason", reason}}, 1);
  w.family("floatlb_cloud_takeover_cycles", T::kGauge, "Last takeover: observe/plan/execute rounds.");
  w.sample("floatlb_cloud_takeover_cycles", cycles);
  w.family("floatlb_cloud_takeover_converged", T::kGauge, "Last takeover: 1 when converged.");
  w.sample("floatlb_cloud_takeover_converged", converged ? 1 : 0);
  w.family("floatlb_cloud_takeover_call_latency_ms", T::kGauge,
           "Latency of each EC2 call of the last takeover.");
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    w.sample("floatlb_cloud_takeover_call_latency_ms",
             {{"seq", std::to_string(i)}, {"action", c.action}, {"ok", c.ok ? "1" : "0"}},
             static_cast<double>(c.latencyMs));
  }
}

}  // namespace floatlb::cloud::takeover
