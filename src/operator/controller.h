// The reconciler of kube-floatlb (kubernetes.md §1.6-§1.9). Single-threaded and pure apart from
// LbTransport (role calls only) and the injected Clock: informer deltas go in
// through the *Changed/*Deleted calls, step() does every piece of work that is due (probes, roles,
// drift check, the per-Service queue) and says when to call it again. Requests to the floatlb
// instances (rule POST/DELETE, probes, drift lists) are not made here: they leave as LbOps
// (takeLbOps) and their answers come back through lbDone, which re-queues the Service concerned,
// so one slow or dead instance never stalls the reconcile of others. Kubernetes writes (finalizer,
// status, Events) leave the same way as KubeOps and come back through kubeDone. An instance is reconciled
// against only after its rule list was read once (what it holds is known); failing Services
// back off per key (RateLimiter, 1 s doubling to 60 s, 10 % jitter, at least a server's Retry-After).
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
#include "operator/rate_limiter.h"
#include "operator/roles.h"
#include "operator/rule.h"
#include "operator/service_plan.h"

namespace floatlb::kube {

struct ControllerStats {
  uint64_t reconciles = 0, lb_posts = 0, lb_deletes = 0, lb_errors = 0, lb_rejected = 0;
  uint64_t drift_reposts = 0, orphans_deleted = 0, status_writes = 0, finalizer_writes = 0;
  uint64_t events = 0, api_errors = 0, cistate_pushes = 0, lb_throttled = 0;
};

class Controller {
 public:
  Controller(Options o, const Clock& clock, LbTransport& lb);

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

  // Requests for the instance workers, in order; and their answers.
  std::vector<LbOp> takeLbOps();
  void lbDone(const LbResult& r);
  // Writes for the Kubernetes API writers (performKubeOp), and their answers.
  std::vector<KubeOp> takeKubeOps();
  void kubeDone(const KubeResult& r);

  void appendMetrics(MetricsWriter& w) const;
  [[nodiscard]] const ControllerStats& stats() const { return stats_; }
  [[nodiscard]] bool instanceAlive(size_t i) const { return instances_.at(i).alive; }
  [[nodiscard]] std::optional<size_t> master() const { return master_; }
  [[nodiscard]] bool passive() const { return passive_; }
  [[nodiscard]] std::optional<Ip4> addressOf(const std::string& key) const { return ipam_.addressOf(key); }
  [[nodiscard]] bool idle() const { return queue_.empty(); }
  [[nodiscard]] const RateLimiter& limiter() const { return limiter_; }
  [[nodiscard]] size_t inflight() const;

 private:
  struct Inflight {
    LbOp::Kind kind = LbOp::kPost;
    LbRule rule;
    std::string owner;  // Service key
    std::string body;
    uint64_t seq = 0;
  };
  struct Instance {
    std::string url;
    bool alive = false;
    bool probed = false;  // one probe answered (or failed) since start
    bool known = false;   // `applied` was read from the instance since it became reachable
    bool needs_drift = false;
    bool probing = false, listing = false;
    std::map<std::string, LbRule> applied;  // what we believe the instance holds, by rule key
    std::map<std::string, std::pair<std::string, TimePoint>> rejected;  // key -> (body, when)
    std::map<std::string, Inflight> inflight;                           // rule key -> op sent
  };
  struct SvcState {
    std::map<std::string, LbRule> desired;
    std::optional<Ip4> vip;
  };
  struct EventRecord {
    std::string name;
    int count = 0;
    TimePoint last;
  };
  enum class PostResult { kOk, kRejected, kPending };

  void enqueue(const std::string& key, Duration delay = Duration::zero());
  void enqueueAll(Duration delay = Duration::zero());
  void retryLater(const std::string& key, Duration at_least = Duration::zero());
  void succeeded(const std::string& key);
  void recover();
  void reconcile(const std::string& key);
  void program(const std::string& key, const ServiceView& svc, const k8s::Json& obj);
  void teardown(const std::string& key, const ServiceView* svc, const k8s::Json* obj);
  // True when none of `rules` is left on a ready instance; DELETEs are sent for those that are.
  bool removeRules(const std::string& key, const std::map<std::string, LbRule>& rules);
  PostResult post(size_t i, const LbRule& r, const std::string& owner);
  void del(size_t i, const LbRule& r, const std::string& owner);
  void submit(LbOp op);
  void postDone(size_t i, const Inflight& f, const HttpReply& rep);
  void deleteDone(size_t i, const Inflight& f, const HttpReply& rep);
  void probeDone(size_t i, const HttpReply& rep);
  void listDone(size_t i, const HttpReply& rep);
  [[nodiscard]] bool ready(size_t i) const { return instances_[i].alive && instances_[i].known; }
  void probe();
  [[nodiscard]] bool allProbed() const;
  void roles(bool force);
  void submitKube(KubeOp op);
  void finalizer(const ServiceView& svc, const k8s::Json& obj, bool add);
  // Sends the status unless the same one is on the way or was written to this resourceVersion.
  void writeStatus(const ServiceView& svc, const std::vector<IngressEntry>& ingress, const std::string& note);
  void emit(const ServiceView& svc, const Problem& p);
  std::vector<const SliceView*> slicesOf(const std::string& svc_key) const;
  [[nodiscard]] std::string instName() const { return opts_.zone + "-inst0"; }

  Options opts_;
  const Clock& clock_;
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
  RateLimiter limiter_;
  std::map<std::string, TimePoint> backoff_until_;  // keys that failed: not reconciled before
  std::vector<LbOp> outbox_;
  std::vector<KubeOp> kube_outbox_;
  std::set<std::string> finalizer_inflight_;  // Service keys
  struct StatusSent {
    std::string ingress;           // JSON of what was sent
    std::string resource_version;  // of the Service when sent: skip re-sending until the watch moves on
  };
  std::map<std::string, StatusSent> status_sent_;
  uint64_t op_seq_ = 0;
  TimePoint next_probe_{}, next_drift_{}, next_resync_{}, next_roles_{};
  bool roles_dirty_ = true;
  uint64_t event_seq_ = 0;
  ControllerStats stats_;
};

}  // namespace floatlb::kube
