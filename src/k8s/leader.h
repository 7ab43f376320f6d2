// Lease leader election (coordination.k8s.io/v1), client-go's algorithm (kubernetes.md §2.5):
// lease 15 s, renew deadline 10 s, retry 2 s. Expiry is judged on the LOCAL clock since the record
// was last seen to change, never by comparing remote timestamps. Pure: the shell GETs the Lease,
// asks plan() what to write, performs it and reports the result.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "k8s/json.h"

namespace floatlb::k8s {

struct LeaderConfig {
  std::string ns = "kube-system";
  std::string name = "kube-floatlb";
  std::string identity;
  Duration lease = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry = std::chrono::seconds(2);
};

struct LeaseWrite {
  enum Kind { kNone, kCreate, kUpdate } kind = kNone;
  Json lease;  // the full object to POST/PUT (resourceVersion kept for PUT)
};

class LeaderElector {
 public:
  LeaderElector(LeaderConfig cfg, const Clock& clock);

  // `observed`: the Lease as read (nullopt = 404).
  LeaseWrite plan(const std::optional<Json>& observed);
  // Result of the write plan() asked for (or of the GET when it failed: ok=false).
  void onResult(bool ok);
  // Call every retry period even when the GET failed: steps down after the renew deadline.
  void tick();
  [[nodiscard]] bool leader() const { return leader_; }
  [[nodiscard]] std::string holder() const { return holder_; }
  // PUT body that releases the Lease on graceful stop, from a fresh read (nullopt when not ours).
  [[nodiscard]] std::optional<Json> release(const Json& observed) const;
  [[nodiscard]] const LeaderConfig& config() const { return cfg_; }

  static std::string microTime(int64_t wall_ms);

 private:
  LeaderConfig cfg_;
  const Clock& clock_;
  bool leader_ = false;
  std::string holder_;
  std::string observed_record_;  // holder|renewTime|RV last seen
  TimePoint observed_at_{};
  TimePoint last_renew_{};
  bool pending_ = false;
};

}  // namespace floatlb::k8s
