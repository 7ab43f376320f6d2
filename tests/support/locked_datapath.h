// InMemoryDatapath made safe for a threaded service under test (SyncService's receiver, event
// and sender threads plus the test thread): every call under one mutex, and pollEvents blocks
// up to its timeout like the real ring buffer instead of returning at once (which would make
// the service's event loop spin).
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include "dataplane/in_memory_datapath.h"

namespace floatlb::testing {

class LockedDatapath final : public dataplane::Datapath {
  template <class F>
  auto locked(F f) {
    std::lock_guard lock(mu_);
    return f();
  }

 public:
  Status upsertService(const flb_svc_key& k, const flb_svc& s) override {
    return locked([&] { return dp_.upsertService(k, s); });
  }
  Status deleteService(const flb_svc_key& k) override {
    return locked([&] { return dp_.deleteService(k); });
  }
  Result<std::vector<std::pair<flb_svc_key, flb_svc>>> listServices() override {
    return locked([&] { return dp_.listServices(); });
  }
  Result<std::vector<dataplane::CtEntry>> dumpConntrack() override {
    return locked([&] { return dp_.dumpConntrack(); });
  }
  Status insertConntrack(const dataplane::CtEntry& e) override {
    return locked([&] { return dp_.insertConntrack(e); });
  }
  Status deleteConntrack(const flb_ct_key& k) override {
    return locked([&] { return dp_.deleteConntrack(k); });
  }
  Result<size_t> flushRule(uint32_t id) override {
    return locked([&] { return dp_.flushRule(id); });
  }
  Result<dataplane::AgingResult> ageConntrack(TimePoint now) override {
    return locked([&] { return dp_.ageConntrack(now); });
  }
  Status invalidateFibCache() override {
    return locked([&] { return dp_.invalidateFibCache(); });
  }
  Result<dataplane::EndpointCounters> endpointCounters(uint32_t id, uint32_t slots) override {
    return locked([&] { return dp_.endpointCounters(id, slots); });
  }
  Status resetRuleCounters(uint32_t id) override {
    return locked([&] { return dp_.resetRuleCounters(id); });
  }
  Result<dataplane::GlobalStats> globalStats() override {
    return locked([&] { return dp_.globalStats(); });
  }
  Result<size_t> pollEvents(const std::function<void(const flb_ct_event&)>& sink, int timeout_ms) override {
    std::vector<flb_ct_event> events;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return pending_events_ > 0; });
      pending_events_ = 0;
      FLB_TRY(dp_.pollEvents([&](const flb_ct_event& ev) { events.push_back(ev); }, 0));
    }
    for (const auto& ev : events) sink(ev);  // outside the lock: the sink may call back in
    return events.size();
  }
  void pushEvent(const flb_ct_event& ev) {
    {
      std::lock_guard lock(mu_);
      dp_.pushEvent(ev);
      ++pending_events_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t pending_events_ = 0;
  dataplane::InMemoryDatapath dp_;
};

}  // namespace floatlb::testing
