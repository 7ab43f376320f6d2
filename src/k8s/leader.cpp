#include "k8s/leader.h"

#include <ctime>

namespace floatlb::k8s {

LeaderElector::LeaderElector(LeaderConfig cfg, const Clock& clock) : cfg_(std::move(cfg)), clock_(clock) {}

std::string LeaderElector::microTime(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%06dZ", buf, static_cast<int>(wall_ms % 1000) * 1000);
  return out;
}

LeaseWrite LeaderElector::plan(const std::optional<Json>& observed) {
  LeaseWrite w;
  TimePoint now = clock_.now();
  std::string ts = microTime(clock_.wallMillis());
  int secs = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg_.lease).count());
  if (!observed) {
    w.kind = LeaseWrite::kCreate;
    w.lease = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", cfg_.name}, {"namespace", cfg_.ns}}},
               {"spec",
                {{"holderIdentity", cfg_.identity},
                 {"leaseDurationSeconds", secs},
                 {"acquireTime", ts},
                 {"renewTime", ts},
                 {"leaseTransitions", 0}}}};
    pending_ = true;
    return w;
  }
  const Json& l = *observed;
  std::string holder = str(path(l, {"spec", "holderIdentity"}));
  std::string record = holder + "|" + str(path(l, {"spec", "renewTime"})) + "|" + resourceVersion(l);
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = now;
  }
  holder_ = holder;
  int64_t dur_s = integer(path(l, {"spec", "leaseDurationSeconds"})).value_or(15);
  bool mine = holder == cfg_.identity;
  if (!mine && leader_) leader_ = false;  // someone else took it
  if (!mine && !holder.empty() && now - observed_at_ < std::chrono::seconds(dur_s)) return w;  // held, not expired
  w.kind = LeaseWrite::kUpdate;
  w.lease = l;
  Json& spec = w.lease["spec"];
  if (!mine) {
    spec["leaseTransitions"] = integer(member(spec, "leaseTransitions")).value_or(0) + 1;
    spec["acquireTime"] = ts;
  }
  spec["holderIdentity"] = cfg_.identity;
  spec["leaseDurationSeconds"] = secs;
  spec["renewTime"] = ts;
  pending_ = true;
  return w;
}

void LeaderElector::onResult(bool ok) {
  if (ok && pending_) {
    leader_ = true;
    holder_ = cfg_.identity;
    last_renew_ = clock_.now();
  }
  pending_ = false;
  tick();
}

void LeaderElector::tick() {
  if (leader_ && clock_.now() - last_renew_ > cfg_.renew_deadline) leader_ = false;  // step down
}

std::optional<Json> LeaderElector::release(const Json& observed) const {
  if (!leader_ || str(path(observed, {"spec", "holderIdentity"})) != cfg_.identity) return std::nullopt;
  Json l = observed;
  l["spec"]["holderIdentity"] = "";
  l["spec"]["leaseDurationSeconds"] = 1;
  l["spec"]["renewTime"] = microTime(clock_.wallMillis());
  return l;
}

}  // namespace floatlb::k8s
