// TakeoverTimeline: every EC2 call of one takeover (or verify re-assert, prepare, cleanup) with its
// start offset, latency, HTTP attempts and whether it was on the critical path, plus the restore
// and convergence points. Rendered as JSON for GET /config/cloud/timeline and as Prometheus
// families through the project's MetricsWriter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace floatlb {
class MetricsWriter;
}

namespace floatlb::cloud::takeover {

struct TakeoverCall {
  std::string action;   // EC2 Action
  std::string target;   // resource id(s) the call named
  int64_t startMs = 0;  // since detection
  int64_t latencyMs = 0;
  bool ok = true;
  std::string error;        // AWS code + message when !ok
  bool critical = true;     // made before traffic was restored
  bool poll = false;        // a waiter's Describe poll
  bool concurrent = false;  // issued together with the previous call (no extra round trip)
  int attempts = 1;         // HTTP attempts (throttling/5xx retries inside the client)
  int cycle = 0;            // observe/plan/execute round (1-based)
};

struct TakeoverTimeline {
  std::string reason;          // "MASTER (epoch 7)", "verify: EIP moved", "shutdown"
  std::string mode;            // "subnet" (multi-AZ), "single-az", "routed"
  int64_t detectedWallMs = 0;  // wall clock at detection (epoch ms)
  TimePoint detected{};        // monotonic detection time (offsets below are from here)
  std::vector<TakeoverCall> calls;
  std::optional<int64_t> restoredMs;  // critical steps done (EIP -> my ENI/VIP, ENI attached)
  std::optional<int64_t> doneMs;      // converged (deferred steps done and verified)
  int cycles = 0;
  bool converged = false;
  std::string error;             // last error ("" if none)
  std::vector<std::string> log;  // planned steps, one line each, in execution order

  // EC2 calls up to the restore point (serial: each waited for the previous one).
  [[nodiscard]] size_t criticalCalls() const;
  // The same without Describe* (waiter polls and observations).
  [[nodiscard]] size_t criticalMutations() const;
  // Round trips up to the restore point: critical calls not issued concurrently with another.
  [[nodiscard]] size_t criticalSerialCalls() const;
  // Waiter polls among the critical calls.
  [[nodiscard]] size_t criticalPolls() const;
  // Describe* calls among the critical calls (observations and polls).
  [[nodiscard]] size_t criticalReads() const;

  // JSON object for GET /config/cloud/timeline.
  [[nodiscard]] std::string json() const;
  // floatlb_cloud_takeover_* families (the last takeover's figures).
  void appendMetrics(MetricsWriter& w) const;
};

bool isDescribe(const std::string& action);

}  // namespace floatlb::cloud::takeover
