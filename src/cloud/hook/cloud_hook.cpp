#include "cloud/hook/cloud_hook.h"

#include <algorithm>

#include "common/log.h"
#include "common/metrics.h"

namespace floatlb::cloud {

namespace {

class RealWorkerTimer final : public WorkerTimer {
 public:
  void waitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Duration d,
               const std::function<bool()>& wake) override {
    cv.wait_for(lock, d, wake);
  }
};

}  // namespace

WorkerTimer& realWorkerTimer() {
  static RealWorkerTimer t;
  return t;
}

CloudHook::CloudHook(CloudHookConfig config, aws::Ec2Api& ec2, const Clock& clock, aws::Sleeper& sleeper,
                     InterfaceConfigurator* os, VipSource vips, StepDown step_down, WorkerTimer* timer)
    : cfg_(std::move(config)),
      ec2_(ec2),
      clock_(clock),
      os_(os),
      vips_(std::move(vips)),
      step_down_(std::move(step_down)),
      timer_(timer != nullptr ? *timer : realWorkerTimer()),
      exec_(ec2, clock, sleeper, cfg_.exec) {
  auto live = [this](const takeover::TakeoverTimeline& tl) {
    std::lock_guard l(mu_);
    timeline_ = tl;  // GET /config/cloud/timeline shows a takeover while it runs
  };
  exec_.setProgress(live);
  if (cfg_.routed) {
    routed_ = std::make_unique<takeover::RoutedExecutor>(ec2, clock, sleeper, cfg_.exec);
    routed_->setProgress(live);
  }
  thread_ = std::thread([this] { worker(); });
}

CloudHook::~CloudHook() { stop(); }

void CloudHook::stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
    ++gen_;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status CloudHook::prepare() {
  std::lock_guard l(exec_mu_);
  if (routed_) {
    auto tl = routed_->startTimeline("prepare");
    auto st = routed_->prepare(routedGoal(), tl);
    std::lock_guard s(mu_);
    timeline_ = tl;
    if (!st.ok()) status_.lastError = st.error().message;
    return st;
  }
  auto tl = exec_.startTimeline("prepare");
  return exec_.prepare(currentGoal(), tl);
}

void CloudHook::onMaster(const std::string& reason, uint64_t epoch) {
  {
    std::lock_guard l(mu_);
    if (master_) return;  // already working on it
    master_ = true;
    epoch_ = epoch;
    ++gen_;
    reason_ = reason;
    status_.master = true;
    status_.converged = false;
  }
  cv_.notify_all();
}

void CloudHook::onBackup() {
  {
    std::lock_guard l(mu_);
    if (!master_) return;
    master_ = false;
    ++gen_;
    status_.master = false;
    status_.converged = false;
  }
  cv_.notify_all();
  releaseOs();  // local only: the next master takes the ENI/VIP/EIP away with EC2 calls
}

Status CloudHook::shutdownLastNode() {
  onBackup();
  if (routed_)
    return okStatus();  // routed mode: the prepared subnet/ENI/tables stay (nothing AZ-bound moves)
  std::lock_guard l(exec_mu_);
  auto tl = exec_.startTimeline("shutdown (last node)");
  auto st = exec_.cleanup(currentGoal(), tl);
  std::lock_guard s(mu_);
  timeline_ = tl;
  if (!st.ok()) status_.lastError = st.error().message;
  return st;
}

bool CloudHook::stillMaster(uint64_t gen) const {
  std::lock_guard l(mu_);
  return master_ && !stopping_ && gen_ == gen;
}

void CloudHook::waitFor(std::chrono::milliseconds d, uint64_t gen) {
  std::unique_lock l(mu_);
  timer_.waitFor(l, cv_, d, [&] { return stopping_ || gen_ != gen; });
}

takeover::TakeoverGoal CloudHook::currentGoal() const {
  takeover::TakeoverGoal g = cfg_.goal;
  if (vips_) g.vips = vips_();
  std::sort(g.vips.begin(), g.vips.end());
  g.vips.erase(std::unique(g.vips.begin(), g.vips.end()), g.vips.end());
  return g;
}

void CloudHook::configureOs(const takeover::TakeoverContext& ctx, const takeover::TakeoverGoal& goal) {
  if (os_ == nullptr || !goal.cidrBlock || ctx.eniMac.empty()) return;
  auto ip = Ip4::parse(ctx.eniPrimaryIp);
  if (!ip) {
    FLB_WARN("cloud", "ENI {} has no usable primary IP '{}'", ctx.eniId, ctx.eniPrimaryIp);
    return;
  }
  EniOsConfig c{ctx.eniMac, *ip, *goal.cidrBlock, {}};
  for (const auto& v : goal.vips) c.sources.push_back(v.vip);
  auto link = os_->waitForLink(ctx.eniMac, cfg_.linkTimeout);
  Status st = link.ok() ? okStatus() : Status(link.error());
  if (st.ok() && link_ready_) st = link_ready_(*link);
  if (st.ok()) st = os_->configure(*link, c);
  std::lock_guard l(mu_);
  if (!st.ok()) {
    status_.lastError = "OS configuration of " + ctx.eniId + ": " + st.error().message;
    FLB_WARN("cloud", "{}", status_.lastError);
    return;
  }
  status_.ifname = *link;
  os_applied_ = c;
  FLB_INFO("cloud", "ENI {} is {} ({} /{}, VIP sources routed via {})", ctx.eniId, *link, ip->str(),
           static_cast<int>(goal.cidrBlock->prefixLen()), goal.cidrBlock->at(1).str());
}

void CloudHook::releaseOs() {
  std::optional<EniOsConfig> applied;
  std::string ifname;
  {
    std::lock_guard l(mu_);
    applied.swap(os_applied_);
    ifname = status_.ifname;
    status_.ifname.clear();
  }
  if (!applied || os_ == nullptr) return;
  if (auto st = os_->release(ifname, *applied); !st.ok()) {
    FLB_WARN("cloud", "releasing {}: {}", ifname, st.error().message);
  }
}

Result<bool> CloudHook::eipsInPlace(const takeover::TakeoverGoal& goal, const std::string& eni) {
  std::vector<std::string> eips;
  for (const auto& v : goal.vips) {
    if (!v.eip.empty()) eips.push_back(v.eip);
  }
  if (eips.empty()) return true;
  auto r = ec2_.describeAddresses({}, eips);
  if (!r.ok()) return r.error().toError();
  for (const auto& v : goal.vips) {
    if (v.eip.empty()) continue;
    bool ok = false;
    for (const auto& a : *r) {
      ok |= a.publicIp == v.eip && a.networkInterfaceId == eni && a.privateIpAddress == v.vip.str();
    }
    if (!ok) return false;
  }
  return true;
}

takeover::RoutedGoal CloudHook::routedGoal() const {
  takeover::RoutedGoal g = *cfg_.routed;
  if (vips_) g.vips = vips_();
  std::sort(g.vips.begin(), g.vips.end());
  g.vips.erase(std::unique(g.vips.begin(), g.vips.end()), g.vips.end());
  std::lock_guard l(mu_);
  g.epoch = epoch_;
  return g;
}

bool CloudHook::runRoutedTakeover(const std::string& reason) {
  const takeover::RoutedGoal goal = routedGoal();
  {
    std::lock_guard l(mu_);
    ++status_.takeovers;
  }
  Status st = okStatus();
  if (!routed_->context()) {  // prepare failed at start-up: do it now (it is idempotent)
    auto prep = routed_->startTimeline("prepare (" + reason + ")");
    st = routed_->prepare(goal, prep);
  }
  auto tl = routed_->startTimeline(reason);
  if (st.ok()) st = routed_->failover(goal, tl);
  std::lock_guard l(mu_);
  timeline_ = tl;
  if (!st.ok()) {
    ++status_.failures;
    status_.lastError = st.error().message;
    FLB_WARN("cloud", "routed takeover ({}) failed: {}", reason, st.error().message);
    return false;
  }
  status_.converged = true;
  FLB_INFO("cloud", "routed takeover ({}): routes on {} after {} ms, {} serial EC2 call(s) ({} in all)",
           reason, goal.eniId, tl.restoredMs.value_or(-1), tl.criticalSerialCalls(), tl.criticalCalls());
  return true;
}

void CloudHook::stepDown(const std::string& msg, bool peer_holds) {
  {
    std::lock_guard l(mu_);
    ++status_.stepDowns;
    status_.converged = false;
    status_.lastError = msg;
  }
  FLB_ERROR("cloud", "{}: stepping down", msg);
  if (step_down_) step_down_(msg, peer_holds);
}

bool CloudHook::runTakeover(uint64_t gen, const std::string& reason) {
  std::lock_guard x(exec_mu_);
  if (routed_) return runRoutedTakeover(reason);
  const takeover::TakeoverGoal goal = currentGoal();
  auto tl = exec_.startTimeline(reason);
  {
    std::lock_guard l(mu_);
    ++status_.takeovers;
  }
  auto r = exec_.run(
      goal, tl, [&] { return stillMaster(gen); },
      [&](const takeover::TakeoverContext& c) { configureOs(c, goal); });
  std::lock_guard l(mu_);
  timeline_ = tl;
  if (!r.ok()) {
    ++status_.failures;
    status_.lastError = r.error().message;
    FLB_WARN("cloud", "takeover ({}) failed: {}", reason, r.error().message);
    return false;
  }
  ctx_ = r->context;
  status_.converged = true;
  FLB_INFO("cloud",
           "takeover ({}) done: traffic restored after {} ms, converged after {} ms, {} serial EC2 calls "
           "({} mutating) on the critical path",
           reason, tl.restoredMs.value_or(-1), tl.doneMs.value_or(-1), tl.criticalSerialCalls(),
           tl.criticalMutations());
  return true;
}

void CloudHook::worker() {
  uint64_t seen = 0;
  for (int round = 0; round < 1'000'000; ++round) {
    uint64_t gen = 0;
    std::string reason;
    {
      std::unique_lock l(mu_);
      status_.idle = true;
      cv_.wait(l, [&] { return stopping_ || (master_ && gen_ != seen); });
      status_.idle = false;
      if (stopping_) return;
      gen = seen = gen_;
      reason = reason_;
    }
    // Take over; re-run with backoff until converged or no longer MASTER.
    auto backoff = cfg_.retryMin;
    bool done = false;
    for (int attempt = 0; attempt < 100000 && stillMaster(gen); ++attempt) {
      if (runTakeover(gen, attempt == 0 ? reason : reason + " (retry " + std::to_string(attempt) + ")")) {
        done = true;
        break;
      }
      waitFor(backoff, gen);
      backoff = std::min(backoff * 2, cfg_.retryMax);
    }
    if (!done) continue;
    if (routed_) {
      verifyRoutes(gen);
    } else {
      verifyEips(gen);
    }
  }
}

void CloudHook::verifyRoutes(uint64_t gen) {
  int failures = 0;
  auto last_vips = routedGoal().vips;
  for (int tick = 0; tick < 100'000'000 && stillMaster(gen); ++tick) {
    waitFor(cfg_.verifyInterval, gen);
    if (!stillMaster(gen)) return;
    std::lock_guard x(exec_mu_);
    if (const auto goal = routedGoal(); goal.vips != last_vips) {
      // New VIPs/EIPs go onto the VIP ENI (prepare is idempotent; routes are unaffected).
      auto tl = routed_->startTimeline("verify: VIP set changed");
      if (auto st = routed_->prepare(goal, tl); !st.ok()) {
        FLB_WARN("cloud", "verify: VIP set changed, prepare failed: {}", st.error().message);
      } else {
        last_vips = goal.vips;
      }
      std::lock_guard l(mu_);
      timeline_ = tl;
    }
    {
      std::lock_guard l(mu_);
      ++status_.verifies;
    }
    auto tl = routed_->startTimeline("verify");
    auto v = routed_->verify(routedGoal(), tl);
    if (!v.ok()) {
      // A read failure is no reason to stop serving; failed re-assert writes count towards stepping down.
      const bool wrote = tl.criticalMutations() > 0;
      FLB_WARN("cloud", "verify: {}", v.error().message);
      if (wrote) {
        std::lock_guard l(mu_);
        timeline_ = tl;
      }
      if (wrote && ++failures >= cfg_.stepDownAfter) {
        stepDown("cannot hold the routes (" + std::to_string(failures) + " failed re-asserts)");
        return;
      }
      continue;
    }
    if (v->kind == takeover::RoutedVerdict::Kind::kStepDown) {
      // §5: never re-assert against the peer that holds the routes.
      stepDown("verify: " + v->reason, /*peer_holds=*/true);
      return;
    }
    if (v->kind == takeover::RoutedVerdict::Kind::kReassert) {
      FLB_WARN("cloud", "verify: {}: re-asserted", v->reason);
      std::lock_guard l(mu_);
      ++status_.reasserts;
      tl.reason = "verify: " + v->reason;
      timeline_ = tl;
    }
    failures = 0;
  }
}

void CloudHook::verifyEips(uint64_t gen) {
  // Verify while MASTER: the EIPs must stay on my ENI/VIP, and new VIPs must be added.
  int failures = 0;
  takeover::TakeoverGoal last = currentGoal();
  for (int tick = 0; tick < 100'000'000 && stillMaster(gen); ++tick) {
    waitFor(cfg_.verifyInterval, gen);
    if (!stillMaster(gen)) break;
    const takeover::TakeoverGoal goal = currentGoal();
    std::string eni;
    {
      std::lock_guard l(mu_);
      eni = ctx_.eniId;
    }
    std::string why;
    if (goal.vips != last.vips) {
      why = "verify: VIP set changed";
    } else {
      {
        std::lock_guard l(mu_);
        ++status_.verifies;
      }
      auto in_place = eipsInPlace(goal, eni);
      if (!in_place.ok()) {
        FLB_WARN("cloud", "verify: cannot read the Elastic IPs: {}", in_place.error().message);
        continue;  // an API outage is not a reason to stop serving
      }
      if (!*in_place) why = "verify: EIP no longer on my ENI/VIP";
    }
    if (why.empty()) continue;
    {
      std::lock_guard l(mu_);
      ++status_.reasserts;
      status_.converged = false;  // until the re-assert has run
    }
    FLB_WARN("cloud", "{}: re-asserting", why);
    last = goal;
    if (runTakeover(gen, why)) {
      failures = 0;
      continue;
    }
    if (++failures >= cfg_.stepDownAfter) {
      stepDown("cannot hold the Elastic IP (" + std::to_string(failures) + " failed re-asserts)");
      return;
    }
  }
}

CloudHookStatus CloudHook::status() const {
  std::lock_guard l(mu_);
  return status_;
}

std::optional<takeover::TakeoverTimeline> CloudHook::lastTimeline() const {
  std::lock_guard l(mu_);
  return timeline_;
}

std::string CloudHook::timelineJson() const {
  auto t = lastTimeline();
  return t ? t->json() : "{}";
}

void CloudHook::appendMetrics(MetricsWriter& w) const {
  const auto s = status();
  using T = MetricType;
  w.family("floatlb_cloud_master", T::kGauge,
           "1 while this node holds (or is taking) the cloud VIP network.");
  w.sample("floatlb_cloud_master", s.master ? 1 : 0);
  w.family("floatlb_cloud_converged", T::kGauge, "1 when the last takeover converged and verify agrees.");
  w.sample("floatlb_cloud_converged", s.converged ? 1 : 0);
  const std::pair<const char*, int> counters[] = {
      {"floatlb_cloud_takeovers_total", s.takeovers},
      {"floatlb_cloud_takeover_failures_total", s.failures},
      {"floatlb_cloud_reasserts_total", s.reasserts},
      {"floatlb_cloud_step_downs_total", s.stepDowns},
  };
  const char* help[] = {"Takeover runs started.", "Takeover runs failed.",
                        "Verify found the cloud state elsewhere and re-asserted.",
                        "Step-downs because the cloud state could not be held."};
  for (size_t i = 0; i < std::size(counters); ++i) {
    w.family(counters[i].first, T::kCounter, help[i]);
    w.sample(counters[i].first, counters[i].second);
  }
  if (auto t = lastTimeline()) t->appendMetrics(w);
}

std::string CloudHook::metricsText() const {
  MetricsWriter w;
  appendMetrics(w);
  return w.str();
}

}  // namespace floatlb::cloud
