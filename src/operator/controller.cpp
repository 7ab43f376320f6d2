#include "operator/controller.h"

#include <algorithm>
#include <ctime>

#include "common/log.h"
#include "operator/status.h"

namespace floatlb::kube {

using k8s::Json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr Duration kDebounce = milliseconds(200);
constexpr Duration kLbTimeout = seconds(5);
constexpr Duration kProbeTimeout = seconds(1);
constexpr Duration kRejectHold = std::chrono::minutes(5);
constexpr const char* kLb = "netlox/v1";

bool sameNode(const NodeView& a, const NodeView& b) {
  return a.ready == b.ready && a.internal_ip == b.internal_ip && a.labels == b.labels;
}

std::string rfc3339(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Controller::Controller(Options o, const Clock& clock, LbTransport& lb)
    : opts_(std::move(o)),
      clock_(clock),
      lb_(lb),
      ipam_(opts_.pools, opts_.unique_ip),
      limiter_(seconds(1), seconds(60), 0.1) {
  for (const auto& u : opts_.loxi_urls) instances_.push_back(Instance{u});
}

// ---- informer deltas -------------------------------------------------------------------------

void Controller::serviceChanged(const Json& obj) {
  std::string key = k8s::objectKey(obj);
  services_[key] = obj;
  enqueue(key);
}

void Controller::serviceDeleted(const std::string& key) {
  services_.erase(key);
  enqueue(key);
}

void Controller::nodeChanged(const Json& obj) {
  NodeView n = parseNode(obj);
  auto it = nodes_.find(n.name);
  bool changed = it == nodes_.end() || !sameNode(it->second, n);
  nodes_[n.name] = n;
  if (changed && synced_) enqueueAll(kDebounce);
}

void Controller::nodeDeleted(const std::string& name) {
  if (nodes_.erase(name) != 0 && synced_) enqueueAll(kDebounce);
}

void Controller::sliceChanged(const Json& obj) {
  SliceView s = parseSlice(obj);
  if (s.service_name.empty()) return;
  std::string key = s.ns + "/" + s.name;
  slices_[key] = s;
  enqueue(s.serviceKey(), kDebounce);
}

void Controller::sliceDeleted(const std::string& key) {
  auto it = slices_.find(key);
  if (it == slices_.end()) return;
  std::string svc = it->second.serviceKey();
  slices_.erase(it);
  enqueue(svc, kDebounce);
}

void Controller::setSynced() {
  synced_ = true;
  enqueueAll();
}

void Controller::setLeader(bool leader) {
  if (leader == leader_) return;
  leader_ = leader;
  FLB_INFO("operator", "{}",
           leader ? "became leader: recovering from Service statuses" : "lost leadership: standby");
  recovered_ = false;
  if (leader) {
    for (auto& inst : instances_) inst.needs_drift = true;
    roles_dirty_ = true;
  }
}

std::vector<const SliceView*> Controller::slicesOf(const std::string& svc_key) const {
  std::vector<const SliceView*> out;
  auto slash = svc_key.find('/');
  std::string ns = svc_key.substr(0, slash);
  for (auto it = slices_.lower_bound(ns + "/"); it != slices_.end() && it->second.ns == ns; ++it) {
    if (it->second.serviceKey() == svc_key) out.push_back(&it->second);
  }
  return out;
}

// ---- queue -----------------------------------------------------------------------------------

void Controller::enqueue(const std::string& key, Duration delay) {
  TimePoint due = clock_.now() + delay;
  // A key backing off waits its turn, whatever re-queues it meanwhile (another instance's answer,
  // a status write coming back through the watch): no hot retry loop against a failing instance.
  if (auto b = backoff_until_.find(key); b != backoff_until_.end()) {
    if (b->second <= clock_.now()) {
      backoff_until_.erase(b);
    } else {
      due = std::max(due, b->second);
    }
  }
  auto it = queue_.find(key);
  if (it == queue_.end() || due < it->second) queue_[key] = due;
}

void Controller::enqueueAll(Duration delay) {
  for (const auto& [k, v] : services_) enqueue(k, delay);
  for (const auto& [k, v] : states_) enqueue(k, delay);
}

void Controller::retryLater(const std::string& key, Duration at_least) {
  TimePoint due = clock_.now() + limiter_.when(key, at_least);
  backoff_until_[key] = due;
  queue_[key] = due;
}

void Controller::succeeded(const std::string& key) {
  limiter_.forget(key);
  backoff_until_.erase(key);
}

// ---- step ------------------------------------------------------------------------------------

TimePoint Controller::step() {
  TimePoint now = clock_.now();
  if (!synced_) return now + milliseconds(100);
  if (now >= next_probe_) {
    probe();
    next_probe_ = now + opts_.probe;
  }
  if (!leader_) return std::min(next_probe_, now + seconds(1));
  if (!recovered_) {
    recover();
    recovered_ = true;
  }
  // Roles wait for every instance's first probe: electing from a partial view could flip a MASTER.
  if (opts_.set_roles && allProbed() && (roles_dirty_ || now >= next_roles_)) {
    roles(roles_dirty_);
    roles_dirty_ = false;
    next_roles_ = now + opts_.lb_check;
  }
  bool drift_due = now >= next_drift_;
  for (size_t i = 0; i < instances_.size(); ++i) {
    Instance& inst = instances_[i];
    if (!inst.alive || inst.listing || !(drift_due || inst.needs_drift)) continue;
    inst.listing = true;
    inst.needs_drift = false;
    submit(
        {LbOp::kList, i, "list", "GET", std::string("/") + kLb + "/config/loadbalancer/all", "", kLbTimeout});
  }
  if (drift_due) next_drift_ = now + opts_.lb_check;
  if (now >= next_resync_) {
    if (next_resync_ != TimePoint{}) enqueueAll();
    next_resync_ = now + opts_.resync;
  }
  // Due keys, earliest first; a key re-queued while processing waits for the next step.
  std::vector<std::pair<TimePoint, std::string>> due;
  for (const auto& [k, t] : queue_) {
    if (t <= now) due.emplace_back(t, k);
  }
  std::sort(due.begin(), due.end());
  for (const auto& [t, k] : due) {
    queue_.erase(k);
    reconcile(k);
    initial_.erase(k);
  }
  TimePoint next = std::min({next_probe_, next_drift_, next_resync_});
  if (opts_.set_roles) next = std::min(next, next_roles_);
  for (const auto& [k, t] : queue_) next = std::min(next, t);
  return next;
}

void Controller::recover() {
  ipam_ = Ipam(opts_.pools, opts_.unique_ip);
  states_.clear();
  struct Rec {
    std::string created, key;
    Ip4 ip;
    std::vector<PortKey> ports;
  };
  std::vector<Rec> recs;
  for (const auto& [key, obj] : services_) {
    ServiceView s = parseService(obj);
    if (!handled(s, opts_)) continue;
    if (auto ip = addressFromStatus(s.ingress, opts_.hostnameStatus() ? opts_.zone : "")) {
      recs.push_back({s.creation_timestamp, key, *ip, portKeys(s)});
    }
  }
  std::sort(recs.begin(), recs.end(), [](const Rec& a, const Rec& b) {
    return std::tie(a.created, a.key) < std::tie(b.created, b.key);
  });
  for (const auto& r : recs) {
    auto c = ipam_.claim(r.key, r.ip, r.ports);
    if (!c) FLB_WARN("operator", "recovery: {} keeps no address: {}", r.key, c.error().message);
  }
  FLB_INFO("operator", "recovered {} addresses from {} Services", recs.size(), services_.size());
  initial_.clear();
  for (const auto& [k, v] : services_) initial_.insert(k);
  enqueueAll();
}

bool Controller::allProbed() const {
  return std::all_of(instances_.begin(), instances_.end(), [](const Instance& x) { return x.probed; });
}

std::vector<LbOp> Controller::takeLbOps() {
  std::vector<LbOp> out;
  out.swap(outbox_);
  return out;
}

size_t Controller::inflight() const {
  size_t n = 0;
  for (const auto& inst : instances_) n += inst.inflight.size();
  return n;
}

void Controller::submit(LbOp op) {
  op.seq = ++op_seq_;
  outbox_.push_back(std::move(op));
}

void Controller::lbDone(const LbResult& r) {
  if (r.op.instance >= instances_.size()) return;
  size_t i = r.op.instance;
  if (r.reply.code == 429 || r.reply.code == 503) ++stats_.lb_throttled;
  switch (r.op.kind) {
    case LbOp::kProbe:
      probeDone(i, r.reply);
      return;
    case LbOp::kList:
      listDone(i, r.reply);
      return;
    case LbOp::kPost:
    case LbOp::kDelete: {
      auto it = instances_[i].inflight.find(r.op.key);
      if (it == instances_[i].inflight.end() || it->second.seq != r.op.seq) return;  // superseded
      Inflight f = std::move(it->second);
      instances_[i].inflight.erase(it);
      if (f.kind == LbOp::kPost) {
        postDone(i, f, r.reply);
      } else {
        deleteDone(i, f, r.reply);
      }
      return;
    }
  }
}

// ---- reconcile -------------------------------------------------------------------------------

void Controller::reconcile(const std::string& key) {
  ++stats_.reconciles;
  auto it = services_.find(key);
  if (it == services_.end()) {
    teardown(key, nullptr, nullptr);
    return;
  }
  ServiceView svc = parseService(it->second);
  if (!handled(svc, opts_) || svc.deleting) {
    teardown(key, &svc, &it->second);
    return;
  }
  program(key, svc, it->second);
}

void Controller::program(const std::string& key, const ServiceView& svc, const Json& obj) {
  std::vector<const SliceView*> slices = slicesOf(key);
  ServicePlan plan = planService(svc, opts_, ipam_, nodes_, slices);
  for (const auto& p : plan.problems) emit(svc, p);
  SvcState& st = states_[key];
  st.vip = plan.vip;
  std::map<std::string, LbRule> want;
  for (const auto& r : plan.rules) want[r.key()] = r;
  // Rules of this Service that are no longer wanted (port removed, address changed, held).
  std::map<std::string, LbRule> stale;
  for (const auto& [k, r] : st.desired) {
    if (want.count(k) == 0) stale[k] = r;
  }
  for (const auto& inst : instances_) {
    for (const auto& [k, r] : inst.applied) {
      if (want.count(k) == 0 && ownerOf(r.name, opts_.zone) == key) stale[k] = r;
    }
  }
  bool settled = removeRules(key, stale);
  if (plan.hold) {
    st.desired.clear();
    if (settled) succeeded(key);
    return;
  }
  if (!want.empty() && !opts_.finalizer.empty() && !svc.hasFinalizer(opts_.finalizer)) {
    finalizer(svc, obj, /*add=*/true);  // the first rule is sent once it is on (kubeDone re-queues)
    return;
  }
  st.desired = want;
  if (want.empty()) {
    if (settled) succeeded(key);
    return;
  }
  bool any_alive = false, some_instance_has_all = false;
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (!instances_[i].alive) continue;
    any_alive = true;
    if (!instances_[i].known) {  // its list is on the way; listDone re-queues every Service
      settled = false;
      continue;
    }
    bool all = true;
    for (const auto& [k, r] : want) {
      auto a = instances_[i].applied.find(k);
      if (a != instances_[i].applied.end() && a->second.sameAs(r)) continue;
      post(i, r, key);  // pending or rejected: either way not there yet
      all = false;
      settled = false;
    }
    if (all) some_instance_has_all = true;
  }
  if (!any_alive) {
    bool all_probed =
        std::all_of(instances_.begin(), instances_.end(), [](const Instance& x) { return x.probed; });
    if (all_probed) {  // before the first probe answers, the instances are unknown, not down
      FLB_WARN("operator", "{}: no floatlb instance is reachable; will retry", key);
      retryLater(key);
    }
    return;
  }
  if (some_instance_has_all) {
    writeStatus(svc, ingressFor(*plan.vip, opts_),
                "load balancer " + plan.vip->str() + " on " + std::to_string(instances_.size()) +
                    " floatlb instance(s)");
  }
  if (settled) succeeded(key);
}

void Controller::teardown(const std::string& key, const ServiceView* svc, const Json* obj) {
  auto st = states_.find(key);
  bool owned = st != states_.end() ||
               (svc != nullptr && !opts_.finalizer.empty() && svc->hasFinalizer(opts_.finalizer));
  std::map<std::string, LbRule> rules;
  if (st != states_.end()) rules = st->second.desired;
  for (const auto& inst : instances_) {
    for (const auto& [k, r] : inst.applied) {
      if (ownerOf(r.name, opts_.zone) == key) rules[k] = r;
    }
  }
  if (!owned && rules.empty()) return;
  if (!removeRules(key, rules)) return;  // deleteDone re-queues the key
  bool had_address = ipam_.addressOf(key).has_value();
  ipam_.release(key);
  bool had_state = states_.erase(key) != 0;
  if (had_address) {  // a pending Service may now get the address
    for (const auto& [k, v] : services_) {
      if (k != key && !ipam_.addressOf(k)) enqueue(k);
    }
  }
  if (svc == nullptr) {
    status_sent_.erase(key);
    succeeded(key);
    return;
  }
  if (had_state && !rules.empty())
    emit(*svc, {"DeletedLoadBalancer", "rules removed from the floatlb instances", false});
  if (!svc->deleting && !svc->ingress.empty()) {
    writeStatus(*svc, {}, "");
    return;  // the finalizer goes once the cleared status is seen
  }
  if (!opts_.finalizer.empty() && svc->hasFinalizer(opts_.finalizer)) {
    finalizer(*svc, *obj, /*add=*/false);
    return;
  }
  status_sent_.erase(key);
  succeeded(key);
}

bool Controller::removeRules(const std::string& key, const std::map<std::string, LbRule>& rules) {
  bool done = true;
  for (size_t i = 0; i < instances_.size(); ++i) {
    // A dead instance, or one whose list is not read yet, is left to the orphan GC.
    if (!ready(i)) continue;
    Instance& inst = instances_[i];
    for (const auto& [k, r] : rules) {
      auto f = inst.inflight.find(k);
      bool there = inst.applied.count(k) != 0 || (f != inst.inflight.end() && f->second.kind == LbOp::kPost);
      if (f != inst.inflight.end() && f->second.kind == LbOp::kDelete) {
        done = false;
      } else if (there) {
        del(i, r, key);
        done = false;
      }
    }
  }
  return done;
}

Controller::PostResult Controller::post(size_t i, const LbRule& r, const std::string& owner) {
  Instance& inst = instances_[i];
  std::string body = encodeRule(r);
  auto rej = inst.rejected.find(r.key());
  if (rej != inst.rejected.end() && rej->second.first == body &&
      clock_.now() - rej->second.second < kRejectHold) {
    return PostResult::kRejected;
  }
  auto f = inst.inflight.find(r.key());
  if (f != inst.inflight.end() && f->second.kind == LbOp::kPost && f->second.body == body) {
    return PostResult::kPending;
  }
  ++stats_.lb_posts;
  LbOp op{LbOp::kPost, i, r.key(), "POST", std::string("/") + kLb + "/config/loadbalancer", body, kLbTimeout};
  submit(op);
  inst.inflight[r.key()] = Inflight{LbOp::kPost, r, owner, body, op_seq_};
  return PostResult::kPending;
}

void Controller::del(size_t i, const LbRule& r, const std::string& owner) {
  Instance& inst = instances_[i];
  ++stats_.lb_deletes;
  submit({LbOp::kDelete, i, r.key(), "DELETE", deletePath(r), "", kLbTimeout});
  inst.inflight[r.key()] = Inflight{LbOp::kDelete, r, owner, "", op_seq_};
}

void Controller::postDone(size_t i, const Inflight& f, const HttpReply& rep) {
  Instance& inst = instances_[i];
  if (rep.code == 200 || rep.code == 409) {
    inst.applied[f.rule.key()] = f.rule;
    inst.rejected.erase(f.rule.key());
    enqueue(f.owner);  // the status may be written now
    return;
  }
  ++stats_.lb_errors;
  if (rep.code >= 400 && rep.code < 500 && rep.code != 429) {
    ++stats_.lb_rejected;
    inst.rejected[f.rule.key()] = {f.body, clock_.now()};
    std::string msg = rep.body;
    if (auto j = k8s::parseJson(rep.body)) msg = k8s::str(k8s::member(*j, "message"), rep.body);
    auto it = services_.find(f.owner);
    if (it != services_.end()) {
      emit(parseService(it->second),
           {"LBRejected", inst.url + " rejected " + f.rule.key() + ": " + msg, true});
    }
    return;  // retried when the spec changes or after the hold
  }
  FLB_WARN("operator", "POST {} to {}: {}", f.rule.key(), inst.url,
           rep.code == 0 ? "no answer" : std::to_string(rep.code));
  retryLater(f.owner, rep.retry_after);
}

void Controller::deleteDone(size_t i, const Inflight& f, const HttpReply& rep) {
  Instance& inst = instances_[i];
  if (rep.code == 200 || rep.code == 404) {
    inst.applied.erase(f.rule.key());
    enqueue(f.owner);  // teardown may go on
    return;
  }
  ++stats_.lb_errors;
  FLB_WARN("operator", "{}: DELETE {} on {} failed ({}); will retry", f.owner, f.rule.key(), inst.url,
           rep.code);
  retryLater(f.owner, rep.retry_after);
}

// ---- instances ---------------------------------------------------------------------------------

void Controller::probe() {
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (instances_[i].probing) continue;
    instances_[i].probing = true;
    submit({LbOp::kProbe, i, "probe", "GET", std::string("/") + kLb, "", kProbeTimeout});
  }
}

void Controller::probeDone(size_t i, const HttpReply& rep) {
  Instance& inst = instances_[i];
  inst.probing = false;
  bool alive = rep.code != 0;
  if (!inst.probed && !alive) enqueueAll();  // Services that waited for the first probe
  inst.probed = true;
  if (alive == inst.alive) return;
  inst.alive = alive;
  FLB_INFO("operator", "floatlb instance {} is {}", inst.url, alive ? "reachable" : "NOT reachable");
  if (alive) {
    inst.needs_drift = true;  // read what it holds, then re-push every rule it lacks at once
  } else {
    inst.known = false;
  }
  roles_dirty_ = true;
}

void Controller::roles(bool force) {
  (void)force;
  std::vector<InstanceRoleView> views(instances_.size());
  bool passive = false;
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (!instances_[i].alive) continue;
    views[i].alive = true;
    HttpReply bfd = lb_.request(i, "GET", std::string("/") + kLb + "/config/bfd/all", "", kProbeTimeout);
    if (bfd.code == 200) passive = true;
    HttpReply ci = lb_.request(i, "GET", std::string("/") + kLb + "/config/cistate/all", "", kProbeTimeout);
    if (ci.code != 200) continue;
    auto j = k8s::parseJson(ci.body);
    const Json* attr = j ? k8s::member(*j, "Attr") : nullptr;
    if (attr == nullptr || !attr->is_array()) continue;
    for (const auto& a : *attr) {
      if (k8s::str(k8s::member(a, "instance")) == instName())
        views[i].reported = k8s::str(k8s::member(a, "state"));
    }
  }
  if (passive != passive_) {
    FLB_INFO("operator", "{}",
             passive ? "instances run their own heartbeat HA (--ka): roles are passive"
                     : "roles elected by the operator (--setRoles)");
  }
  passive_ = passive;
  if (passive) {
    std::optional<size_t> m;
    for (size_t i = 0; i < views.size() && !m; ++i) {
      if (views[i].alive && views[i].reported == "MASTER") m = i;
    }
    if (m != master_ && m) FLB_INFO("operator", "MASTER is {}", instances_[*m].url);
    master_ = m;
    return;
  }
  RoleDecision d = elector_.decide(views);
  if (d.changed && d.master)
    FLB_INFO("operator", "elected {} MASTER of {}", instances_[*d.master].url, instName());
  master_ = d.master;
  for (const auto& p : d.pushes) {
    std::vector<std::string> names{instName()};
    if (opts_.zone != "llb") names.push_back("llb-inst0");
    for (const auto& n : names) {
      Json body = {{"instance", n}, {"state", p.state}, {"vip", opts_.set_roles->str()}};
      ++stats_.cistate_pushes;
      HttpReply rep = lb_.request(p.instance, "POST", std::string("/") + kLb + "/config/cistate",
                                  k8s::dump(body), kLbTimeout);
      if (rep.code != 200) {
        roles_dirty_ = true;  // retry on the next step
        FLB_WARN("operator", "cistate {} to {}: {}", p.state, instances_[p.instance].url, rep.code);
      }
    }
  }
}

void Controller::listDone(size_t i, const HttpReply& rep) {
  Instance& inst = instances_[i];
  inst.listing = false;
  if (!inst.alive) return;
  if (rep.code != 200) {
    inst.needs_drift = !inst.known;  // until it is known, ask again on the next step
    return;
  }
  auto rules = parseRuleList(rep.body);
  if (!rules) {
    FLB_WARN("operator", "{}: unreadable rule list: {}", inst.url, rules.error().message);
    return;
  }
  bool was_known = inst.known;
  inst.known = true;
  inst.applied.clear();
  for (auto& r : *rules) inst.applied[r.key()] = r;
  if (!was_known) enqueueAll();  // Services waiting for this instance's contents
  std::map<std::string, std::pair<std::string, const LbRule*>> desired;  // rule key -> (svc, rule)
  for (const auto& [svc, st] : states_) {
    for (const auto& [k, r] : st.desired) desired[k] = {svc, &r};
  }
  for (const auto& [k, d] : desired) {
    auto a = inst.applied.find(k);
    if (a != inst.applied.end() && a->second.sameAs(*d.second)) continue;
    if (inst.inflight.count(k) != 0) continue;  // an answer is on the way
    if (post(i, *d.second, d.first) == PostResult::kPending) ++stats_.drift_reposts;
  }
  if (!initial_.empty()) return;  // orphan GC only once every Service was reconciled after recovery
  std::vector<LbRule> orphans;
  for (const auto& [k, r] : inst.applied) {
    auto owner = ownerOf(r.name, opts_.zone);
    if (!owner || desired.count(k) != 0 || inst.inflight.count(k) != 0) continue;
    orphans.push_back(r);
  }
  for (const auto& r : orphans) {
    FLB_INFO("operator", "{}: deleting orphan rule {} ({})", inst.url, r.key(), r.name);
    ++stats_.orphans_deleted;
    del(i, r, *ownerOf(r.name, opts_.zone));
  }
}

// ---- Kubernetes writes -------------------------------------------------------------------------

void Controller::submitKube(KubeOp op) {
  op.seq = ++op_seq_;
  kube_outbox_.push_back(std::move(op));
}

std::vector<KubeOp> Controller::takeKubeOps() {
  std::vector<KubeOp> out;
  out.swap(kube_outbox_);
  return out;
}

void Controller::finalizer(const ServiceView& svc, const Json& obj, bool add) {
  if (!finalizer_inflight_.insert(svc.key()).second) return;  // one edit at a time per Service
  submitKube({add ? KubeOp::kAddFinalizer : KubeOp::kRemoveFinalizer, svc.key(), svc.ns, svc.name, obj,
              opts_.finalizer});
}

void Controller::writeStatus(const ServiceView& svc, const std::vector<IngressEntry>& ingress,
                             const std::string& note) {
  if (svc.ingress == ingress) {
    status_sent_.erase(svc.key());
    return;
  }
  Json patch = statusPatch(ingress);
  std::string text = k8s::dump(patch);
  auto it = status_sent_.find(svc.key());
  if (it != status_sent_.end() && it->second.ingress == text &&
      (it->second.resource_version == svc.resource_version || it->second.resource_version.empty())) {
    return;  // on the way, or written and the watch has not brought it back yet
  }
  status_sent_[svc.key()] = {text, ""};
  KubeOp op{KubeOp::kStatus, svc.key(), svc.ns, svc.name, std::move(patch), note};
  submitKube(std::move(op));
}

void Controller::kubeDone(const KubeResult& r) {
  const KubeOp& op = r.op;
  if (op.kind == KubeOp::kEvent || op.kind == KubeOp::kEventPatch) {
    if (!r.status.ok()) ++stats_.api_errors;
    return;
  }
  if (op.kind == KubeOp::kStatus) {
    auto sent = status_sent_.find(op.key);
    if (!r.status.ok()) {
      ++stats_.api_errors;
      if (sent != status_sent_.end()) status_sent_.erase(sent);
      FLB_WARN("operator", "{}: status write failed: {}", op.key, r.status.error().message);
      retryLater(op.key, r.retry_after);
      return;
    }
    ++stats_.status_writes;
    auto it = services_.find(op.key);
    if (sent != status_sent_.end() && it != services_.end()) {
      sent->second.resource_version = k8s::resourceVersion(it->second);
    }
    if (!op.text.empty() && it != services_.end()) {
      emit(parseService(it->second), {"EnsuredLoadBalancer", op.text, false});
    }
    enqueue(op.key);
    return;
  }
  finalizer_inflight_.erase(op.key);
  if (!r.status.ok() &&
      !(op.kind == KubeOp::kRemoveFinalizer && r.status.error().code == ErrorCode::kNotFound)) {
    ++stats_.api_errors;
    FLB_WARN("operator", "{}: {} the finalizer failed: {}", op.key,
             op.kind == KubeOp::kAddFinalizer ? "adding" : "removing", r.status.error().message);
    retryLater(op.key, r.retry_after);
    return;
  }
  ++stats_.finalizer_writes;
  if (r.object && services_.count(op.key) != 0) services_[op.key] = *r.object;  // the watch brings the new RV
  if (op.kind == KubeOp::kRemoveFinalizer) {
    status_sent_.erase(op.key);
    succeeded(op.key);
    return;
  }
  enqueue(op.key);
}

void Controller::emit(const ServiceView& svc, const Problem& p) {
  if (p.warning) {
    FLB_WARN("operator", "{}: {}: {}", svc.key(), p.reason, p.message);
  } else {
    FLB_DEBUG("operator", "{}: {}: {}", svc.key(), p.reason, p.message);
  }
  std::string id = svc.uid + "|" + p.reason + "|" + p.message;
  TimePoint now = clock_.now();
  auto it = events_.find(id);
  if (it != events_.end() && now - it->second.last < kRejectHold) return;  // no event storm on resync
  std::string ts = rfc3339(clock_.wallMillis());
  ++stats_.events;
  if (it != events_.end()) {
    it->second.count++;
    it->second.last = now;
    Json patch = {{"count", it->second.count}, {"lastTimestamp", ts}};
    submitKube({KubeOp::kEventPatch, svc.key() + "#event", svc.ns, it->second.name, std::move(patch), ""});
    return;
  }
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".%016llx",
                static_cast<unsigned long long>(clock_.wallMillis()) * 1000 + (event_seq_++ % 1000));
  EventRecord rec{svc.name + suffix, 1, now};
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", rec.name}, {"namespace", svc.ns}}},
             {"involvedObject",
              {{"apiVersion", "v1"},
               {"kind", "Service"},
               {"namespace", svc.ns},
               {"name", svc.name},
               {"uid", svc.uid},
               {"resourceVersion", svc.resource_version}}},
             {"reason", p.reason},
             {"message", p.message},
             {"type", p.warning ? "Warning" : "Normal"},
             {"source", {{"component", "kube-floatlb"}}},
             {"reportingComponent", "kube-floatlb"},
             {"reportingInstance", "kube-floatlb"},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1}};
  submitKube({KubeOp::kEvent, svc.key() + "#event", svc.ns, svc.name, std::move(ev), ""});
  events_[id] = rec;
}

void Controller::appendMetrics(MetricsWriter& w) const {
  w.family("kube_floatlb_reconciles_total", MetricType::kCounter, "Service reconciles");
  w.sample("kube_floatlb_reconciles_total", static_cast<double>(stats_.reconciles));
  w.family("kube_floatlb_lb_requests_total", MetricType::kCounter,
           "REST requests to floatlb instances by kind");
  w.sample("kube_floatlb_lb_requests_total", {{"kind", "post"}}, static_cast<double>(stats_.lb_posts));
  w.sample("kube_floatlb_lb_requests_total", {{"kind", "delete"}}, static_cast<double>(stats_.lb_deletes));
  w.family("kube_floatlb_lb_errors_total", MetricType::kCounter,
           "failed or rejected REST requests to instances");
  w.sample("kube_floatlb_lb_errors_total", static_cast<double>(stats_.lb_errors));
  w.family("kube_floatlb_lb_throttled_total", MetricType::kCounter,
           "instance answers 429/503 (their Retry-After is honoured)");
  w.sample("kube_floatlb_lb_throttled_total", static_cast<double>(stats_.lb_throttled));
  w.family("kube_floatlb_lb_inflight", MetricType::kGauge, "rule POSTs/DELETEs sent and not yet answered");
  w.sample("kube_floatlb_lb_inflight", static_cast<double>(inflight()));
  w.family("kube_floatlb_reconcile_retries_total", MetricType::kCounter,
           "Service reconciles re-queued with backoff after a failure");
  w.sample("kube_floatlb_reconcile_retries_total", static_cast<double>(limiter_.retries()));
  w.family("kube_floatlb_reconcile_retry_after_total", MetricType::kCounter,
           "retries delayed by a server's Retry-After rather than the backoff");
  w.sample("kube_floatlb_reconcile_retry_after_total", static_cast<double>(limiter_.throttled()));
  w.family("kube_floatlb_backoff_keys", MetricType::kGauge, "Services currently backing off after failures");
  w.sample("kube_floatlb_backoff_keys", static_cast<double>(limiter_.backingOff()));
  w.family("kube_floatlb_queue_depth", MetricType::kGauge, "Services queued for a reconcile");
  w.sample("kube_floatlb_queue_depth", static_cast<double>(queue_.size()));
  w.family("kube_floatlb_drift_reposts_total", MetricType::kCounter,
           "rules re-sent because an instance lost them");
  w.sample("kube_floatlb_drift_reposts_total", static_cast<double>(stats_.drift_reposts));
  w.family("kube_floatlb_orphans_deleted_total", MetricType::kCounter, "rules deleted that no Service wants");
  w.sample("kube_floatlb_orphans_deleted_total", static_cast<double>(stats_.orphans_deleted));
  w.family("kube_floatlb_status_writes_total", MetricType::kCounter, "Service status writes");
  w.sample("kube_floatlb_status_writes_total", static_cast<double>(stats_.status_writes));
  w.family("kube_floatlb_events_total", MetricType::kCounter, "Kubernetes Events written");
  w.sample("kube_floatlb_events_total", static_cast<double>(stats_.events));
  w.family("kube_floatlb_instance_up", MetricType::kGauge, "1 when the floatlb instance answers its probe");
  w.family("kube_floatlb_instance_master", MetricType::kGauge, "1 for the instance that is MASTER");
  for (size_t i = 0; i < instances_.size(); ++i) {
    w.sample("kube_floatlb_instance_up", {{"instance", instances_[i].url}}, instances_[i].alive ? 1 : 0);
    w.sample("kube_floatlb_instance_master", {{"instance", instances_[i].url}}, master_ == i ? 1 : 0);
  }
  w.family("kube_floatlb_services", MetricType::kGauge, "handled Services with desired rules");
  w.sample("kube_floatlb_services", static_cast<double>(states_.size()));
  w.family("kube_floatlb_leader", MetricType::kGauge, "1 while this replica is the leader");
  w.sample("kube_floatlb_leader", leader_ ? 1 : 0);
}

}  // namespace floatlb::kube
