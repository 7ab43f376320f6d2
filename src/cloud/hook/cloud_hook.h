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
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cloud/aws/ec2_api.h"
#include "cloud/aws/retry.h"
#include "cloud/aws/takeover_exec.h"
#include "cloud/aws/takeover_plan.h"
#include "cloud/hook/os_config.h"
#include "common/clock.h"

namespace floatlb::cloud {

struct CloudHookConfig {
  aws::TakeoverGoal goal;  // everything but `vips` (those come from the VipSource at each run)
  aws::ExecOptions exec;
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
  std::string ifname;  // OS interface of the ENI ("" before / single-AZ)
  std::string lastError;
};

class CloudHook {
 public:
  using VipSource = std::function<std::vector<aws::VipEip>()>;
  using StepDown = std::function<void(const std::string& reason)>;
  // Called with the ENI's OS interface as soon as it appears, before it is brought up: the daemon
  // attaches the datapath there, so no packet reaches the kernel stack unhandled.
  using LinkReady = std::function<Status(const std::string& ifname)>;
  void setLinkReady(LinkReady fn) { link_ready_ = std::move(fn); }

  // `os` may be null (no OS configuration, e.g. single-AZ mode or tests).
  CloudHook(CloudHookConfig config, aws::Ec2Api& ec2, const Clock& clock, aws::Sleeper& sleeper,
            InterfaceConfigurator* os, VipSource vips, StepDown step_down);
  ~CloudHook();
  CloudHook(const CloudHook&) = delete;
  CloudHook& operator=(const CloudHook&) = delete;

  // Start-up, any role: caches the VPC/IGW/route table observation (off the critical path).
  Status prepare();
  void onMaster(const std::string& reason);
  void onBackup();
  Status shutdownLastNode();
  void stop();  // joins the worker (idempotent)

  [[nodiscard]] CloudHookStatus status() const;
  [[nodiscard]] std::optional<aws::TakeoverTimeline> lastTimeline() const;
  [[nodiscard]] std::string timelineJson() const;  // "{}" before the first takeover
  [[nodiscard]] std::string metricsText() const;

 private:
  void worker();
  bool stillMaster(uint64_t gen) const;
  // Waits up to `d` (real time) unless the generation changes or stop() is called.
  void waitFor(std::chrono::milliseconds d, uint64_t gen);
  aws::TakeoverGoal currentGoal() const;
  void configureOs(const aws::TakeoverContext& ctx, const aws::TakeoverGoal& goal);
  void releaseOs();
  // DescribeAddresses: does every EIP point at (my ENI, its VIP)?
  Result<bool> eipsInPlace(const aws::TakeoverGoal& goal, const std::string& eni);
  bool runTakeover(uint64_t gen, const std::string& reason);

  CloudHookConfig cfg_;
  aws::Ec2Api& ec2_;
  const Clock& clock_;
  InterfaceConfigurator* os_;
  VipSource vips_;
  StepDown step_down_;
  LinkReady link_ready_;
  aws::TakeoverExecutor exec_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool master_ = false;
  uint64_t gen_ = 0;
  std::string reason_;
  CloudHookStatus status_;
  std::optional<aws::TakeoverTimeline> timeline_;
  aws::TakeoverContext ctx_;
  std::optional<EniOsConfig> os_applied_;
  std::mutex exec_mu_;  // the executor is used by one thread at a time
  std::thread thread_;
};

}  // namespace floatlb::cloud
