// The takeover executor: observe -> plan (plan.h) -> execute -> observe ... until the plan
// is empty. Real waiters (DescribeNetworkInterfaces until a detached ENI is `available`, the VPC
// CIDR association `associated`, the attachment `attached`), per-step deadlines, conflict retries
// (DependencyViolation & co. while AWS catches up), throttling/5xx retries through the Ec2Client's
// own policy, every error reported. Each EC2 call lands in a TakeoverTimeline (timeline.h) with its
// latency.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cloud/aws/ec2_api.h"
#include "cloud/aws/retry.h"
#include "cloud/takeover/plan.h"
#include "cloud/takeover/recorder.h"
#include "cloud/takeover/timeline.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::takeover {

using aws::AwsError;
using aws::AwsResult;
using aws::AwsStatus;
using aws::Ec2Api;
using aws::Sleeper;

struct ExecOptions {
  Duration stepTimeout = std::chrono::seconds(90);  // per waiter / conflict-retry loop
  Duration pollInitial = std::chrono::milliseconds(250);
  Duration pollMax = std::chrono::seconds(2);
  int maxCycles = 10;         // observe/plan/execute rounds per run()
  bool parallelReads = true;  // the observation's independent Describe calls run concurrently
};

struct TakeoverResult {
  TakeoverContext context;  // subnet, ENI (id, MAC, primary IP), route table
  int cycles = 0;
};

class TakeoverExecutor {
 public:
  using KeepGoing = std::function<bool()>;  // false: stop between steps (e.g. no longer MASTER)
  using OnRestored = std::function<void(const TakeoverContext&)>;
  // Called after every EC2 call with the timeline so far (live progress for the API); may run on
  // the concurrent reads' threads, one at a time.
  using OnProgress = std::function<void(const TakeoverTimeline&)>;
  void setProgress(OnProgress progress) { rec_.progress = std::move(progress); }

  TakeoverExecutor(Ec2Api& ec2, const Clock& clock, Sleeper& sleeper, ExecOptions options = {});

  // Describe* for the goal. VPCs, the internet gateway and route tables are only described when
  // `full` (they change rarely: they are cached from the last full observation otherwise).
  Result<TakeoverObservation> observe(const TakeoverGoal& goal, bool full, TakeoverTimeline& tl);

  // Runs one plan's steps in order; stops at the first error. `ctx` starts as plan.context and
  // collects ids of created resources.
  using AfterStep = std::function<void(const TakeoverStep&, const TakeoverContext&)>;
  Status execute(const TakeoverPlan& plan, const TakeoverGoal& goal, TakeoverContext& ctx,
                 TakeoverTimeline& tl, const KeepGoing& keep_going, const AfterStep& after_step = {});

  // observe -> plan -> execute until converged (or maxCycles, or keep_going() == false).
  // `on_restored` runs once per run, when the critical steps of a cycle have all succeeded (the
  // hook configures the OS interface there, before the deferred steps).
  Result<TakeoverResult> run(const TakeoverGoal& goal, TakeoverTimeline& tl, const KeepGoing& keep_going,
                             const OnRestored& on_restored = {});

  // Dry run: a full observation and the plan it gives, nothing mutated (flb-ec2 takeover-dryrun).
  Result<TakeoverPlan> plan(const TakeoverGoal& goal, TakeoverTimeline& tl);

  // Last node's shutdown: detach/delete the tagged ENIs and subnet (planCleanup), verified.
  Status cleanup(const TakeoverGoal& goal, TakeoverTimeline& tl);

  // Full observation (VPCs, IGW, route tables cached), done at start-up on every node so a later
  // takeover's critical path only describes what changes at failover.
  Status prepare(const TakeoverGoal& goal, TakeoverTimeline& tl);

  // Starts a timeline at the current time.
  [[nodiscard]] TakeoverTimeline startTimeline(std::string reason) const;

 private:
  Status runStep(const TakeoverStep& s, const TakeoverGoal& goal, TakeoverContext& ctx, TakeoverTimeline& tl);
  // One waiter poll (DescribeNetworkInterfaces by id): the ENI, or nullopt when it is gone.
  Result<std::optional<NetworkInterface>> pollEni(const std::string& eni, const char* waiting_for,
                                                  TakeoverTimeline& tl);
  Status waitEniDetached(const std::string& eni, TakeoverTimeline& tl);
  Status waitEniAttached(const std::string& eni, const TakeoverGoal& goal, TakeoverContext& ctx,
                         TakeoverTimeline& tl);
  Status waitVpcCidr(const std::string& vpc, const std::string& cidr, TakeoverTimeline& tl);
  // Retries `call` while it fails with a "not yet" conflict code, until the step deadline.
  Status retryConflicts(const std::function<AwsStatus()>& call);
  Duration nextPoll(Duration current) const;
  void markRestored(TakeoverTimeline& tl, const TakeoverContext& ctx, const OnRestored& on_restored);

  Ec2Api& ec2_;
  const Clock& clock_;
  Sleeper& sleeper_;
  ExecOptions opts_;
  CallRecorder rec_;  // times calls into the timeline; progress only for run() and cleanup()
  struct LiveScope {
    explicit LiveScope(bool& flag) : flag_(flag) { flag_ = true; }
    ~LiveScope() { flag_ = false; }
    LiveScope(const LiveScope&) = delete;
    LiveScope& operator=(const LiveScope&) = delete;
    bool& flag_;
  };
  std::optional<TakeoverObservation> cached_;  // vpcs, IGW, route tables from the last full observe
};

}  // namespace floatlb::cloud::takeover
