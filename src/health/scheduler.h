// ProbeScheduler: the pure core of endpoint health checking. It knows which targets exist (shared
// by several rules through a reference count), when each one is due, and turns probe results into
// UP/DOWN state with the reference's semantics: `retries` failures in a row take a healthy target
// DOWN, one success brings it back UP. It does no I/O and reads time only from the injected Clock;
// the ProbeRunner (runner.h) executes the probes it hands out. Not thread-safe on its own.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "health/probe.h"

namespace floatlb::health {

struct TargetConfig {
  Duration interval = std::chrono::seconds(60);  // probeDuration: time between probes
  Duration timeout = std::chrono::seconds(1);    // per-probe timeout
  uint32_t retries = 2;                          // failures in a row before DOWN (0 is treated as 1)
  bool initially_healthy = true;                 // state before the first result
  Duration first_probe_delay{0};                 // delay of the first probe after creation
  std::string request;                           // http path
};

// A state change, delivered through the callback: what the daemon feeds into the rule's endpoints.
struct Transition {
  TargetKey key;
  bool healthy = false;
};

struct ProbeJob {
  ProbeSpec spec;
  uint64_t generation = 0;  // identifies the target instance; stale results are ignored
};

// One row of GET /config/endpoint/all.
struct EndpointStatus {
  TargetKey key;
  std::string name;  // "<ip>_<type>_<port>"
  Duration interval{0};
  uint32_t retries = 0;
  bool healthy = false;
  uint32_t consecutive_failures = 0;
  uint32_t refs = 0;
  uint64_t probes = 0;  // results received so far
  std::string request;
  // Ping only: RTT statistics over the last kRttWindow successful probes ("" = none yet).
  std::optional<Duration> min_rtt, avg_rtt, max_rtt;
};

class ProbeScheduler {
 public:
  using Callback = std::function<void(const Transition&)>;
  static constexpr size_t kRttWindow = 10;

  ProbeScheduler(const Clock& clock, Callback on_change);

  // Adds one reference to `key`. The first reference creates the target with `config` (returns
  // true); later references share it and leave its state and config unchanged (returns false).
  bool addTarget(const TargetKey& key, const TargetConfig& config);
  // Drops one reference; the target is deleted with its last reference (returns true then).
  // Returns false if the target is still referenced or did not exist.
  bool removeTarget(const TargetKey& key);
  Status setInterval(const TargetKey& key, Duration interval);
  Status setRetries(const TargetKey& key, uint32_t retries);

  // Probes that are due now and not already running; they are marked running until report().
  std::vector<ProbeJob> takeDue();
  // The result of a job from takeDue(). Emits a Transition when the state flips. Results for a
  // target that was removed (or removed and re-added) since the job was handed out are ignored.
  void report(const ProbeJob& job, const ProbeResult& result);

  // Earliest time a not-running target becomes due (nullopt: nothing to wait for).
  [[nodiscard]] std::optional<TimePoint> nextDue() const;
  [[nodiscard]] std::optional<bool> healthy(const TargetKey& key) const;
  [[nodiscard]] std::vector<EndpointStatus> snapshot() const;  // ordered by key
  [[nodiscard]] size_t size() const { return targets_.size(); }

 private:
  struct Target {
    TargetConfig config;
    uint64_t generation = 0;
    uint32_t refs = 0;
    bool healthy = true;
    bool running = false;
    uint32_t failures = 0;
    uint64_t probes = 0;
    TimePoint next_due;
    std::deque<Duration> rtts;
  };

  const Clock& clock_;
  Callback on_change_;
  uint64_t next_generation_ = 1;
  std::map<TargetKey, Target> targets_;
};

}  // namespace floatlb::health
