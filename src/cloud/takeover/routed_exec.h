// RoutedExecutor: the I/O shell of the routed mode (routed.h). prepare() observes the VPC and runs
// planRoutedPrepare's steps until converged (idempotent; ids cached); failover() issues every route
// write at once on its own thread — one serial round, no reads, no waiters; verify() reads the
// cached tables with one DescribeRouteTables and applies verifyRoutes (re-assert what is missing,
// never write against a peer that holds the routes; the hook steps down on kStepDown).
#pragma once

#include <optional>

#include "cloud/aws/ec2_api.h"
#include "cloud/aws/retry.h"
#include "cloud/takeover/exec.h"
#include "cloud/takeover/recorder.h"
#include "cloud/takeover/routed.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::takeover {

class RoutedExecutor {
 public:
  RoutedExecutor(aws::Ec2Api& ec2, const Clock& clock, aws::Sleeper& sleeper, ExecOptions options = {});
  void setProgress(CallRecorder::OnProgress progress) { rec_.progress = std::move(progress); }

  [[nodiscard]] TakeoverTimeline startTimeline(std::string reason) const;

  // Every Describe prepare needs (off the critical path).
  Result<RoutedObservation> observe(const RoutedGoal& goal, TakeoverTimeline& tl);
  // observe -> planRoutedPrepare -> execute, until converged (or maxCycles). Caches the context.
  Status prepare(const RoutedGoal& goal, TakeoverTimeline& tl);
  // MASTER: the route writes of failoverWrites(), all at once. Needs a prepared context. Traffic is
  // restored when they all succeeded (tl.restoredMs); the epoch tag follows off the critical path.
  Status failover(const RoutedGoal& goal, TakeoverTimeline& tl);
  // One DescribeRouteTables of the cached tables; re-asserts (one round) when the verdict says so.
  Result<RoutedVerdict> verify(const RoutedGoal& goal, TakeoverTimeline& tl);

  [[nodiscard]] const std::optional<RoutedContext>& context() const { return ctx_; }

 private:
  Status runStep(const RoutedStep& s, const RoutedGoal& goal, RoutedContext& ctx, TakeoverTimeline& tl);
  // The writes, concurrently; errors of all of them joined. Updates the cached route states.
  Status writeRoutes(const RoutedGoal& goal, const std::vector<RouteWrite>& writes, TakeoverTimeline& tl);
  Status tagOwnership(const RoutedGoal& goal, TakeoverTimeline& tl);

  aws::Ec2Api& ec2_;
  const Clock& clock_;
  aws::Sleeper& sleeper_;
  ExecOptions opts_;
  CallRecorder rec_;
  std::optional<RoutedContext> ctx_;
};

}  // namespace floatlb::cloud::takeover
