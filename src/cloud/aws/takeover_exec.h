// The takeover executor: observe -> plan (takeover_plan.h) -> execute -> observe ... until the plan
// is empty. Real waiters (DescribeNetworkInterfaces until a detached ENI is `available`, the VPC
// CIDR association `associated`, the attachment `attached`), per-step deadlines, conflict retries
// (DependencyViolation & co. while AWS catches up), throttling/5xx retries through the Ec2Client's
// own policy, every error reported. Each EC2 call lands in a TakeoverTimeline with its latency.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cloud/aws/ec2_api.h"
#include "cloud/aws/retry.h"
#include "cloud/aws/takeover_plan.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct TakeoverCall {
  std::string action;   // EC2 Action
  std::string target;   // resource id(s) the call named
  int64_t startMs = 0;  // since detection
  int64_t latencyMs = 0;
  bool ok = true;
  std::string error;        // AWS code + message when !ok
  bool critical = true;     // made before traffic was restored
  bool poll = false;        // a waiter's Describe poll
  bool concurrent = false;  // issued together with the previous call (no extra round trip)
  int attempts = 1;         // HTTP attempts (throttling/5xx retries inside the client)
  int cycle = 0;            // observe/plan/execute round (1-based)
};

struct TakeoverTimeline {
  std::string reason;          // "MASTER (epoch 7)", "verify: EIP moved", "shutdown"
  int64_t detectedWallMs = 0;  // wall clock at detection (epoch ms)
  TimePoint detected{};        // monotonic detection time (offsets below are from here)
  std::vector<TakeoverCall> calls;
  std::optional<int64_t> restoredMs;  // critical steps done (EIP -> my ENI/VIP, ENI attached)
  std::optional<int64_t> doneMs;      // converged (deferred steps done and verified)
  int cycles = 0;
  bool converged = false;
  std::string error;             // last error ("" if none)
  std::vector<std::string> log;  // planned steps, one line each, in execution order

  // EC2 calls up to the restore point (serial: each waited for the previous one).
  [[nodiscard]] size_t criticalCalls() const;
  // The same without Describe* (waiter polls and observations).
  [[nodiscard]] size_t criticalMutations() const;
  // Round trips up to the restore point: critical calls not issued concurrently with another.
  [[nodiscard]] size_t criticalSerialCalls() const;
  // Waiter polls among the critical calls.
  [[nodiscard]] size_t criticalPolls() const;
};

// JSON object for GET /config/cloud/timeline (no dependency on a JSON library).
std::string timelineJson(const TakeoverTimeline& t);
// Prometheus text lines (floatlb_cloud_takeover_*), labels from the timeline.
std::string timelinePrometheus(const TakeoverTimeline& t);

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
  void setProgress(OnProgress progress) { progress_ = std::move(progress); }

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

  // Last node's shutdown: detach/delete the tagged ENIs and subnet (planCleanup), verified.
  Status cleanup(const TakeoverGoal& goal, TakeoverTimeline& tl);

  // Full observation (VPCs, IGW, route tables cached), done at start-up on every node so a later
  // takeover's critical path only describes what changes at failover.
  Status prepare(const TakeoverGoal& goal, TakeoverTimeline& tl);

  // Starts a timeline at the current time.
  [[nodiscard]] TakeoverTimeline startTimeline(std::string reason) const;

 private:
  template <class F>
  auto timed(TakeoverTimeline& tl, const char* action, const std::string& target, F&& call, bool poll = false,
             bool concurrent = false) -> decltype(call());
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
  bool critical_phase_ = true;
  int cycle_ = 0;
  std::mutex calls_mu_;  // timeline appends from the concurrent reads
  OnProgress progress_;
  bool live_ = false;  // progress is reported for run() and cleanup(), not for prepare()
  struct LiveScope {
    explicit LiveScope(bool& flag) : flag_(flag) { flag_ = true; }
    ~LiveScope() { flag_ = false; }
    LiveScope(const LiveScope&) = delete;
    LiveScope& operator=(const LiveScope&) = delete;
    bool& flag_;
  };
  std::optional<TakeoverObservation> cached_;  // vpcs, IGW, route tables from the last full observe
};

}  // namespace floatlb::cloud::aws
