// The reconciler of kube-floatlb (kubernetes.md §1.6-§1.9). Single-threaded and pure apart from
// its two ports (KubeWriter, LbTransport) and the injected Clock: informer deltas go in through
// the *Changed/*Deleted calls, step() does every piece of work that is due (probes, roles, drift
// check, the per-Service queue) and says when to call it again.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "operator/ipam.h"
#include "operator/objects.h"
#include "operator/options.h"
#include "operator/ports.h"
#include "operator/roles.h"
#include "operator/rule.h"
#include "operator/service_plan.h"

namespace floatlb::kube {

struct ControllerStats {
  uint64_t reconciles = 0, lb_posts = 0, lb_deletes = 0, lb_errors = 0, lb_rejected = 0;
  uint64_t drift_reposts = 0, orphans_deleted = 0, status_writes = 0, finalizer_writes = 0;
  uint64_t events = 0, api_errors = 0, cistate_pushes = 0;
};

class Controller {
 public:
  Controller(Options o, const Clock& clock, KubeWriter& kube, LbTransport& lb);

  void serviceChanged(const k8s::Json& obj);
  void serviceDeleted(const std::string& key);
  void nodeChanged(const k8s::Json& obj);
  void nodeDeleted(const std::string& name);
  void sliceChanged(const k8s::Json& obj);
  void sliceDeleted(const std::string& key);
  // The initial lists of all informers are in: recovery and reconciling may start.
  void setSynced();
  // Leader election result (always true without --leader-elect). A standby writes nothing.
  void setLeader(bool leader);

  TimePoint step();

  void appendMetrics(MetricsWriter& w) const;
  [[nodiscard]] const ControllerStats& stats() const { return stats_; }
  [[nodiscard]] bool instanceAlive(size_t i) const { return instances_.at(i).alive; }
  [[nodiscard]] std::optional<size_t> master() const { return master_; }
  [[nodiscard]] bool passive() const { return passive_; }
  [[nodiscard]] std::optional<Ip4> addressOf(const std::string& key) const { return ipam_.addressOf(key); }
  [[nodiscard]] bool idle() const { return queue_.empty(); }

 private:
  struct Instance {
    std::string url;
    bool alive = false;
    bool needs_drift = false;
    std::map<std::string, LbRule> applied;  // what we believe the instance holds, by rule key
    std::map<std::string, std::pair<std::string, TimePoint>> rejected;  // key -> (body, when)
  };
  struct SvcState {
    std::map<std::string, LbRule> desired;
    std::optional<Ip4> vip;
    unsigned failures = 0;
  };
  struct EventRecord {
    std::string name;
    int count = 0;
    TimePoint last;
  };
  enum class PostResult { kOk, kRejected, kFailed };

  void enqueue(const std::string& key, Duration delay = Duration::zero());
  void enqueueAll(Duration delay = Duration::zero());
  void retryLater(const std::string& key);
  void recover();
  void reconcile(const std::string& key);
  void program(const std::string& key, const ServiceView& svc, const k8s::Json& obj);
  void teardown(const std::string& key, const ServiceView* svc, const k8s::Json* obj);
  bool removeRules(const std::string& key, const std::map<std::string, LbRule>& rules);
  PostResult post(size_t i, const LbRule& r, const ServiceView* svc);
  bool del(size_t i, const LbRule& r);
  void probe();
  void roles(bool force);
  void drift(size_t i);
  Status editFinalizer(const ServiceView& svc, const k8s::Json& obj, bool add);
  void emit(const ServiceView& svc, const Problem& p);
  std::vector<const SliceView*> slicesOf(const std::string& svc_key) const;
  [[nodiscard]] std::string instName() const { return opts_.zone + "-inst0"; }

  Options opts_;
  const Clock& clock_;
  KubeWriter& kube_;
  LbTransport& lb_;
  Ipam ipam_;
  RoleElector elector_;
  std::optional<size_t> master_;
  bool passive_ = false;
  bool synced_ = false;
  bool leader_ = true;
  bool recovered_ = false;
  std::set<std::string> initial_;  // Services not yet reconciled since recovery (orphan GC waits)
  std::vector<Instance> instances_;
  std::map<std::string, k8s::Json> services_;
  std::map<std::string, NodeView> nodes_;
  std::map<std::string, SliceView> slices_;
  std::map<std::string, SvcState> states_;
  std::map<std::string, TimePoint> queue_;
  std::map<std::string, EventRecord> events_;
  TimePoint next_probe_{}, next_drift_{}, next_resync_{}, next_roles_{};
  bool roles_dirty_ = true;
  uint64_t event_seq_ = 0;
  ControllerStats stats_;
};

}  // namespace floatlb::kube
