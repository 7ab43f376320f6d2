// CloudHook: what the daemon calls on HA transitions when --cloud=aws.
//   onMaster()  -> a background worker runs the takeover (TakeoverExecutor) and re-runs it with
//                  backoff until converged or no longer MASTER; then verifies every few seconds
//                  (DescribeAddresses: each EIP on my ENI/VIP) and re-asserts; if re-asserting fails
//                  `stepDownAfter` times in a row it calls the step-down callback, so a node that
//                  cannot hold the EIP stops claiming to serve (no split brain with the EIP elsewhere).
//   onBackup()  -> local release only (policy rules/address of the ENI interface); no EC2 calls.
//   shutdownLastNode() -> deletes the tagged ENI/subnet (synchronous).
// Timelines of the last takeover are exported as JSON and Prometheus text.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cloud/aws/ec2_api.h"
#include "cloud/aws/retry.h"
#include "cloud/hook/os_config.h"
#include "cloud/takeover/exec.h"
#include "cloud/takeover/plan.h"
#include "cloud/takeover/routed_exec.h"
#include "common/clock.h"

namespace floatlb {
class MetricsWriter;
}

namespace floatlb::cloud {

// The worker's timed waits (verify interval, retry backoff). Production waits in real time on the
// hook's condition variable; tests inject a timer that fires only when told and advances the
// FakeClock (tests/support/manual_timer.h), so no test sleeps to prove that nothing happened.
class WorkerTimer {
 public:
  virtual ~WorkerTimer() = default;
  // Called with `lock` (the hook's mutex) held; returns once `d` has passed or `wake()` is true.
  // `wake` is re-evaluated (under the lock) whenever `cv` is notified.
  virtual void waitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Duration d,
                       const std::function<bool()>& wake) = 0;
};
// Real time: cv.wait_for(lock, d, wake).
WorkerTimer& realWorkerTimer();

struct CloudHookConfig {
  takeover::TakeoverGoal goal;  // everything but `vips` (those come from the VipSource at each run)
  // --cloudmode=routed: the routed goal (vips from the VipSource, epoch from onMaster); `goal` unused.
  std::optional<takeover::RoutedGoal> routed;
  takeover::ExecOptions exec;
  std::chrono::milliseconds verifyInterval{3000};
  int stepDownAfter = 3;  // consecutive failed re-asserts
  std::chrono::milliseconds retryMin{500};
  std::chrono::milliseconds retryMax{30000};
  std::chrono::milliseconds linkTimeout{30000};  // wait for the ENI's interface to appear
};

struct CloudHookStatus {
  bool master = false;
  bool converged = false;
  int takeovers = 0;  // runs started
  int failures = 0;   // runs failed
  int reasserts = 0;  // verify found the EIP elsewhere and re-asserted
  int stepDowns = 0;
  int verifies = 0;    // verify ticks that read EC2
  bool idle = false;   // the worker is parked, waiting for MASTER (no timed wait, no EC2 call)
  std::string ifname;  // OS interface of the ENI ("" before / single-AZ)
  std::string lastError;
};

class CloudHook {
 public:
  using VipSource = std::function<std::vector<takeover::VipEip>()>;
  // `peer_holds`: the peer holds the cloud resources (routed verify); HA then holds this node in
  // BACKUP until it hears the peer (HaMachine::onCloudStepDown). Otherwise it merely cannot hold them.
  using StepDown = std::function<void(const std::string& reason, bool peer_holds)>;
  // Called with the ENI's OS interface as soon as it appears, before it is brought up: the daemon
  // attaches the datapath there, so no packet reaches the kernel stack unhandled.
  using LinkReady = std::function<Status(const std::string& ifname)>;
  void setLinkReady(LinkReady fn) { link_ready_ = std::move(fn); }

  // `os` may be null (no OS configuration, e.g. single-AZ mode or tests); `timer` null: real time.
  CloudHook(CloudHookConfig config, aws::Ec2Api& ec2, const Clock& clock, aws::Sleeper& sleeper,
            InterfaceConfigurator* os, VipSource vips, StepDown step_down, WorkerTimer* timer = nullptr);
  ~CloudHook();
  CloudHook(const CloudHook&) = delete;
  CloudHook& operator=(const CloudHook&) = delete;

  // Start-up, any role: caches the VPC/IGW/route table observation (off the critical path).
  Status prepare();
  // `epoch`: the HA epoch of this MASTER term (routed mode's tie-break; 0 if unknown).
  void onMaster(const std::string& reason, uint64_t epoch = 0);
  void onBackup();
  Status shutdownLastNode();
  void stop();  // joins the worker (idempotent)

  [[nodiscard]] CloudHookStatus status() const;
  [[nodiscard]] std::optional<takeover::TakeoverTimeline> lastTimeline() const;
  [[nodiscard]] std::string timelineJson() const;  // "{}" before the first takeover
  // floatlb_cloud_* families (hook status + the last takeover's timeline).
  void appendMetrics(MetricsWriter& w) const;
  // The same rendered alone (for callers that still concatenate metrics text).
  [[nodiscard]] std::string metricsText() const;

 private:
  void worker();
  bool stillMaster(uint64_t gen) const;
  // Waits up to `d` (through the WorkerTimer) unless the generation changes or stop() is called.
  void waitFor(std::chrono::milliseconds d, uint64_t gen);
  takeover::TakeoverGoal currentGoal() const;
  void configureOs(const takeover::TakeoverContext& ctx, const takeover::TakeoverGoal& goal);
  void releaseOs();
  // DescribeAddresses: does every EIP point at (my ENI, its VIP)?
  Result<bool> eipsInPlace(const takeover::TakeoverGoal& goal, const std::string& eni);
  bool runTakeover(uint64_t gen, const std::string& reason);
  bool runRoutedTakeover(const std::string& reason);
  takeover::RoutedGoal routedGoal() const;
  // Verify loop while MASTER (subnet/single-AZ: the EIPs; routed: the route tables).
  void verifyEips(uint64_t gen);
  void verifyRoutes(uint64_t gen);
  void stepDown(const std::string& msg, bool peer_holds = false);

  CloudHookConfig cfg_;
  aws::Ec2Api& ec2_;
  const Clock& clock_;
  InterfaceConfigurator* os_;
  VipSource vips_;
  StepDown step_down_;
  LinkReady link_ready_;
  WorkerTimer& timer_;
  takeover::TakeoverExecutor exec_;
  std::unique_ptr<takeover::RoutedExecutor> routed_;  // routed mode only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool master_ = false;
  uint64_t gen_ = 0;
  std::string reason_;
  uint64_t epoch_ = 0;
  CloudHookStatus status_;
  std::optional<takeover::TakeoverTimeline> timeline_;
  takeover::TakeoverContext ctx_;
  std::optional<EniOsConfig> os_applied_;
  std::mutex exec_mu_;  // the executor is used by one thread at a time
  std::thread thread_;
};

}  // namespace floatlb::cloud
