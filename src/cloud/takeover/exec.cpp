#include "cloud/takeover/exec.h"

#include <algorithm>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"

namespace floatlb::cloud::takeover {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// "Not yet" answers while AWS finishes a previous change: retried inside the step until its deadline.
const std::set<std::string>& conflictCodes() {
  static const std::set<std::string> k = {"DependencyViolation", "IncorrectState",
                                          "InvalidNetworkInterface.InUse", "InvalidSubnet.Conflict",
                                          "InvalidParameterValue.InUse"};
  return k;
}

Error stepError(const TakeoverStep& s, const AwsError& e) {
  return Error{e.kind, std::string(stepKindName(s.kind)) + " " + s.id + ": " + awsText(e)};
}

}  // namespace

TakeoverExecutor::TakeoverExecutor(Ec2Api& ec2, const Clock& clock, Sleeper& sleeper, ExecOptions options)
    : ec2_(ec2), clock_(clock), sleeper_(sleeper), opts_(options), rec_(ec2, clock) {}

TakeoverTimeline TakeoverExecutor::startTimeline(std::string reason) const {
  TakeoverTimeline t;
  t.reason = std::move(reason);
  t.detected = clock_.now();
  t.detectedWallMs = clock_.wallMillis();
  return t;
}

Duration TakeoverExecutor::nextPoll(Duration current) const { return std::min(current * 2, opts_.pollMax); }

Result<TakeoverObservation> TakeoverExecutor::observe(const TakeoverGoal& goal, bool full,
                                                      TakeoverTimeline& tl) {
  TakeoverObservation obs;
  const std::string tag = "tag:" + goal.tags.key;
  std::vector<std::string> eips;
  for (const auto& v : goal.vips) {
    if (!v.eip.empty() && std::find(eips.begin(), eips.end(), v.eip) == eips.end()) eips.push_back(v.eip);
  }
  // Independent reads are issued together (one round trip on the critical path): multi-AZ reads
  // the tagged ENIs, the tagged subnets and the EIPs at once; single-AZ reads my ENIs and the EIPs
  // at once, then the subnets of those ENIs. Every thread is joined before any result is checked.
  std::optional<AwsResult<std::vector<NetworkInterface>>> enis;
  std::optional<AwsResult<std::vector<Subnet>>> subnets;
  std::optional<AwsResult<std::vector<Address>>> addrs;
  auto read_subnets = [&](bool concurrent) {
    subnets = rec_(
        tl, "DescribeSubnets", goal.tags.subnet(),
        [&] {
          return ec2_.describeSubnets({{tag, {goal.tags.subnet()}}});
        },
        false, concurrent);
  };
  auto read_addresses = [&](bool concurrent) {
    if (eips.empty()) return;
    addrs = rec_(
        tl, "DescribeAddresses", eips.front(), [&] { return ec2_.describeAddresses({}, eips); }, false,
        concurrent);
  };
  std::thread t_subnets;
  std::thread t_addrs;
  if (opts_.parallelReads) {
    if (goal.cidrBlock) t_subnets = std::thread(read_subnets, true);
    t_addrs = std::thread(read_addresses, true);
  }
  if (goal.cidrBlock) {
    enis = rec_(tl, "DescribeNetworkInterfaces", goal.tags.eni(), [&] {
      return ec2_.describeNetworkInterfaces({{tag, {goal.tags.eni()}}});
    });
  } else {
    enis = rec_(tl, "DescribeNetworkInterfaces", goal.instanceId, [&] {
      return ec2_.describeNetworkInterfaces({{"attachment.instance-id", {goal.instanceId}}});
    });
  }
  if (opts_.parallelReads) {
    if (t_subnets.joinable()) t_subnets.join();
    t_addrs.join();
  } else {
    if (goal.cidrBlock) read_subnets(false);
    read_addresses(false);
  }
  if (!enis->ok()) return enis->error().toError();
  obs.enis = std::move(*enis).value();
  if (addrs) {
    if (!addrs->ok()) return addrs->error().toError();
    obs.addresses = std::move(*addrs).value();
  }
  if (goal.cidrBlock) {
    if (!subnets->ok()) return subnets->error().toError();
    obs.subnets = std::move(*subnets).value();
  } else {
    std::vector<std::string> ids;
    for (const auto& e : obs.enis) {
      if (std::find(ids.begin(), ids.end(), e.subnetId) == ids.end()) ids.push_back(e.subnetId);
    }
    if (!ids.empty()) {
      auto mine = rec_(tl, "DescribeSubnets", ids.front(), [&] {
        return ec2_.describeSubnets({{"subnet-id", ids}});
      });
      if (!mine.ok()) return mine.error().toError();
      obs.subnets = std::move(mine).value();
    }
    return obs;
  }

  if (full || !cached_) {
    TakeoverObservation st;
    auto own = rec_(tl, "DescribeVpcs", goal.vpcId, [&] {
      return ec2_.describeVpcs({{"vpc-id", {goal.vpcId}}});
    });
    if (!own.ok()) return own.error().toError();
    st.vpcs = std::move(own).value();
    const std::string block = goal.cidrBlock->str();
    auto holders = rec_(tl, "DescribeVpcs", block, [&] {
      return ec2_.describeVpcs({{"cidr-block-association.cidr-block", {block}}});
    });
    if (!holders.ok()) return holders.error().toError();
    for (auto& v : holders.value()) {
      if (v.vpcId != goal.vpcId) st.vpcs.push_back(std::move(v));
    }
    auto igws = rec_(tl, "DescribeInternetGateways", goal.vpcId, [&] {
      return ec2_.describeInternetGateways({{"attachment.vpc-id", {goal.vpcId}}});
    });
    if (!igws.ok()) return igws.error().toError();
    if (!igws->empty()) st.internetGatewayId = igws->front().internetGatewayId;
    auto rts = rec_(tl, "DescribeRouteTables", goal.tags.routeTable(), [&] {
      return ec2_.describeRouteTables({{tag, {goal.tags.routeTable()}}});
    });
    if (!rts.ok()) return rts.error().toError();
    st.routeTables = std::move(rts).value();
    cached_ = std::move(st);
  }
  obs.vpcs = cached_->vpcs;
  obs.internetGatewayId = cached_->internetGatewayId;
  obs.routeTables = cached_->routeTables;
  return obs;
}

Status TakeoverExecutor::retryConflicts(const std::function<AwsStatus()>& call) {
  const TimePoint deadline = clock_.now() + opts_.stepTimeout;
  Duration wait = opts_.pollInitial;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto r = call();
    if (r.ok()) return okStatus();
    if (!conflictCodes().count(r.error().code) || clock_.now() + wait > deadline) return r.error().toError();
    sleeper_.sleepFor(wait);
    wait = nextPoll(wait);
  }
  return makeError(ErrorCode::kTimeout, "conflict retries exhausted");
}

Result<std::optional<NetworkInterface>> TakeoverExecutor::pollEni(const std::string& eni,
                                                                  const char* waiting_for,
                                                                  TakeoverTimeline& tl) {
  auto r = rec_(
      tl, "DescribeNetworkInterfaces", eni,
      [&] {
        return ec2_.describeNetworkInterfaces({{"network-interface-id", {eni}}});
      },
      true);
  if (!r.ok() && !r.error().isNotFound()) {
    return r.error().toError().wrap("waiting for " + eni + " to " + waiting_for);
  }
  if (!r.ok() || r->empty()) return std::optional<NetworkInterface>{};  // gone
  return std::optional<NetworkInterface>(r->front());
}

Status TakeoverExecutor::waitEniDetached(const std::string& eni, TakeoverTimeline& tl) {
  const TimePoint deadline = clock_.now() + opts_.stepTimeout;
  Duration wait = opts_.pollInitial;
  sleeper_.sleepFor(wait);  // a detach never completes within the call that started it
  wait = nextPoll(wait);
  for (int poll = 0; poll < 1000; ++poll) {
    FLB_ASSIGN_OR_RETURN(auto found, pollEni(eni, "detach", tl));
    if (!found) return okStatus();  // already deleted
    const NetworkInterface& e = *found;
    if (!e.attachment || e.status == "available") return okStatus();
    if (e.attachment->status != "detaching") {
      return makeError(ErrorCode::kConflict, eni + " was attached again (to " + e.attachment->instanceId +
                                                 ") while waiting for its detach");
    }
    if (clock_.now() + wait > deadline) {
      return makeError(ErrorCode::kTimeout,
                       eni + " still detaching after " +
                           std::to_string(duration_cast<milliseconds>(opts_.stepTimeout).count()) + " ms");
    }
    sleeper_.sleepFor(wait);
    wait = nextPoll(wait);
  }
  return makeError(ErrorCode::kTimeout, "detach waiter: poll limit");
}

Status TakeoverExecutor::waitEniAttached(const std::string& eni, const TakeoverGoal& goal,
                                         TakeoverContext& ctx, TakeoverTimeline& tl) {
  const TimePoint deadline = clock_.now() + opts_.stepTimeout;
  Duration wait = opts_.pollInitial;
  for (int poll = 0; poll < 1000; ++poll) {
    FLB_ASSIGN_OR_RETURN(auto found, pollEni(eni, "attach", tl));
    if (found) {
      const NetworkInterface& e = *found;
      if (e.attachment && e.attachment->instanceId != goal.instanceId) {
        return makeError(ErrorCode::kConflict,
                         eni + " is attached to " + e.attachment->instanceId + ", not to me");
      }
      if (e.attachment && e.attachment->status == "attached") {
        ctx.eniMac = e.macAddress;
        ctx.eniPrimaryIp = e.privateIpAddress;
        return okStatus();
      }
      if (!e.attachment)
        return makeError(ErrorCode::kConflict, eni + " is not attached (detached by someone?)");
    }
    if (clock_.now() + wait > deadline) return makeError(ErrorCode::kTimeout, eni + " not attached in time");
    sleeper_.sleepFor(wait);
    wait = nextPoll(wait);
  }
  return makeError(ErrorCode::kTimeout, "attach waiter: poll limit");
}

Status TakeoverExecutor::waitVpcCidr(const std::string& vpc, const std::string& cidr, TakeoverTimeline& tl) {
  const TimePoint deadline = clock_.now() + opts_.stepTimeout;
  Duration wait = opts_.pollInitial;
  for (int poll = 0; poll < 1000; ++poll) {
    auto r = rec_(
        tl, "DescribeVpcs", vpc,
        [&] {
          return ec2_.describeVpcs({{"vpc-id", {vpc}}});
        },
        true);
    if (!r.ok()) return r.error().toError().wrap("waiting for the CIDR association of " + vpc);
    for (const auto& v : *r) {
      for (const auto& a : v.cidrBlockAssociations) {
        if (a.cidrBlock != cidr) continue;
        if (a.state == "associated") {
          cached_.reset();  // the VPC changed: the next observation describes it again
          return okStatus();
        }
        if (a.state != "associating") {
          return makeError(ErrorCode::kConflict,
                           "CIDR " + cidr + " association of " + vpc + " is " + a.state);
        }
      }
    }
    if (clock_.now() + wait > deadline)
      return makeError(ErrorCode::kTimeout, cidr + " not associated in time");
    sleeper_.sleepFor(wait);
    wait = nextPoll(wait);
  }
  return makeError(ErrorCode::kTimeout, "CIDR waiter: poll limit");
}

Status TakeoverExecutor::runStep(const TakeoverStep& s, const TakeoverGoal& goal, TakeoverContext& ctx,
                                 TakeoverTimeline& tl) {
  const char* action = stepKindName(s.kind);
  const std::string eni = s.id.empty() ? ctx.eniId : s.id;
  // Deletes/detaches of something already gone are success (idempotent re-runs).
  auto gone_ok = [&](const std::string& target, const std::function<AwsStatus()>& call) -> Status {
    return retryConflicts([&]() -> AwsStatus {
      auto r = rec_(tl, action, target, call);
      if (!r.ok() && r.error().isNotFound()) return AwsStatus();
      return r;
    });
  };
  auto need = [&](const std::string& v, const char* what) -> Status {
    if (v.empty())
      return makeError(ErrorCode::kInternal, std::string(action) + ": no " + what + " in context");
    return okStatus();
  };
  switch (s.kind) {
    case StepKind::kDetachEni:
      return gone_ok(s.id, [&] { return ec2_.detachNetworkInterface(s.attachmentId, true); });
    case StepKind::kWaitEniDetached:
      return waitEniDetached(s.id, tl);
    case StepKind::kDeleteEni:
      return gone_ok(s.id, [&] { return ec2_.deleteNetworkInterface(s.id); });
    case StepKind::kDeleteSubnet:
      return gone_ok(s.id, [&] { return ec2_.deleteSubnet(s.id); });
    case StepKind::kDisassociateRouteTable:
      return gone_ok(s.id, [&] { return ec2_.disassociateRouteTable(s.id); });
    case StepKind::kDeleteRouteTable:
      return gone_ok(s.id, [&] { return ec2_.deleteRouteTable(s.id); });
    case StepKind::kDisassociateVpcCidr:
      return gone_ok(s.id, [&] { return ec2_.disassociateVpcCidrBlock(s.id); });
    case StepKind::kAssociateVpcCidr: {
      auto r = rec_(tl, action, s.vpcId, [&] { return ec2_.associateVpcCidrBlock(s.vpcId, s.cidr); });
      if (!r.ok()) return stepError(s, r.error());
      return okStatus();
    }
    case StepKind::kWaitVpcCidr:
      return waitVpcCidr(s.vpcId, s.cidr, tl);
    case StepKind::kCreateSubnet: {
      aws::CreateSubnetRequest req{s.vpcId,
                                   s.cidr,
                                   goal.availabilityZone,
                                   {TagSpecification{"subnet", {{goal.tags.key, goal.tags.subnet()}}}}};
      std::optional<Subnet> made;
      FLB_TRY(retryConflicts([&]() -> AwsStatus {
        auto r = rec_(tl, action, s.cidr, [&] { return ec2_.createSubnet(req); });
        if (!r.ok()) return r.error();
        made = std::move(r).value();
        return AwsStatus();
      }));
      ctx.subnetId = made->subnetId;
      return okStatus();
    }
    case StepKind::kCreateEni: {
      FLB_TRY(need(ctx.subnetId, "subnet"));
      aws::CreateNetworkInterfaceRequest req;
      req.subnetId = ctx.subnetId;
      req.description = goal.eniDescription;
      req.groupIds = goal.securityGroupIds;
      // Same token for the client's own retries of this call (a lost answer does not leak an ENI).
      req.clientToken = ("flb-" + goal.instanceId + "-" + std::to_string(clock_.wallMillis())).substr(0, 64);
      req.tagSpecifications = {TagSpecification{"network-interface", {{goal.tags.key, goal.tags.eni()}}}};
      req.secondaryPrivateIps = s.ips;
      auto r = rec_(tl, action, ctx.subnetId, [&] { return ec2_.createNetworkInterface(req); });
      if (!r.ok() && !req.secondaryPrivateIps.empty() && r.error().is("InvalidIPAddress.InUse")) {
        // A VIP is held by an ENI we do not manage: create without it; the next cycle moves it
        // with AssignPrivateIpAddresses(AllowReassignment).
        req.secondaryPrivateIps.clear();
        req.clientToken += "-novip";
        r = rec_(tl, action, ctx.subnetId, [&] { return ec2_.createNetworkInterface(req); });
      }
      if (!r.ok()) return stepError(s, r.error());
      ctx.eniId = r->networkInterfaceId;
      ctx.eniMac = r->macAddress;
      ctx.eniPrimaryIp = r->privateIpAddress;
      return okStatus();
    }
    case StepKind::kAttachEni: {
      FLB_TRY(need(eni, "ENI"));
      return retryConflicts([&]() -> AwsStatus {
        auto r = rec_(tl, action, eni,
                      [&] { return ec2_.attachNetworkInterface(eni, goal.instanceId, goal.deviceIndex); });
        if (r.ok()) return AwsStatus();
        // A retry after a lost answer finds the ENI "in use" by this very instance: that is the
        // attachment we asked for, not a conflict to wait out.
        if (r.error().is("InvalidNetworkInterface.InUse")) {
          auto found = pollEni(eni, "attach", tl);
          if (found.ok() && *found && (*found)->attachment &&
              (*found)->attachment->instanceId == goal.instanceId)
            return AwsStatus();
        }
        return r.error();
      });
    }
    case StepKind::kWaitEniAttached:
      FLB_TRY(need(eni, "ENI"));
      return waitEniAttached(eni, goal, ctx, tl);
    case StepKind::kAssignPrivateIps:
      FLB_TRY(need(eni, "ENI"));
      return retryConflicts([&] {
        return rec_(tl, action, eni, [&] { return ec2_.assignPrivateIpAddresses(eni, s.ips, true); });
      });
    case StepKind::kAssociateAddress: {
      FLB_TRY(need(eni, "ENI"));
      aws::AssociateAddressRequest req;
      req.allocationId = s.allocationId;
      req.networkInterfaceId = eni;
      req.privateIpAddress = s.ips.empty() ? "" : s.ips.front();
      req.allowReassociation = true;
      return retryConflicts([&]() -> AwsStatus {
        auto r = rec_(tl, action, s.allocationId, [&] { return ec2_.associateAddress(req); });
        if (!r.ok()) return r.error();
        return AwsStatus();
      });
    }
    case StepKind::kDisableSourceDestCheck:
      FLB_TRY(need(eni, "ENI"));
      return retryConflicts(
          [&] { return rec_(tl, action, eni, [&] { return ec2_.modifySourceDestCheck(eni, false); }); });
    case StepKind::kCreateRouteTable: {
      auto r = rec_(tl, action, goal.vpcId, [&] {
        return ec2_.createRouteTable(
            goal.vpcId, {TagSpecification{"route-table", {{goal.tags.key, goal.tags.routeTable()}}}});
      });
      if (!r.ok()) return stepError(s, r.error());
      ctx.routeTableId = r->routeTableId;
      return okStatus();
    }
    case StepKind::kCreateRoute: {
      const std::string rt = s.id.empty() ? ctx.routeTableId : s.id;
      FLB_TRY(need(rt, "route table"));
      auto r = rec_(tl, action, rt, [&] { return ec2_.createRoute(rt, s.cidr, s.gatewayId); });
      if (!r.ok() && !r.error().is("RouteAlreadyExists")) return stepError(s, r.error());
      return okStatus();
    }
    case StepKind::kAssociateRouteTable: {
      const std::string rt = s.id.empty() ? ctx.routeTableId : s.id;
      FLB_TRY(need(rt, "route table"));
      FLB_TRY(need(ctx.subnetId, "subnet"));
      auto r = rec_(tl, action, rt, [&] { return ec2_.associateRouteTable(rt, ctx.subnetId); });
      if (!r.ok()) return stepError(s, r.error());
      return okStatus();
    }
  }
  return makeError(ErrorCode::kInternal, "unknown step");
}

Status TakeoverExecutor::execute(const TakeoverPlan& plan, const TakeoverGoal& goal, TakeoverContext& ctx,
                                 TakeoverTimeline& tl, const KeepGoing& keep_going,
                                 const AfterStep& after_step) {
  for (const auto& s : plan.steps) {
    if (keep_going && !keep_going())
      return makeError(ErrorCode::kConflict, "takeover aborted (role changed)");
    tl.log.push_back(describeStep(s));
    if (auto st = runStep(s, goal, ctx, tl); !st.ok()) {
      return st.error().message.rfind(stepKindName(s.kind), 0) == 0 ? st.error()
                                                                    : st.error().wrap(stepKindName(s.kind));
    }
    if (after_step) after_step(s, ctx);
  }
  return okStatus();
}

Result<TakeoverResult> TakeoverExecutor::run(const TakeoverGoal& goal, TakeoverTimeline& tl,
                                             const KeepGoing& keep_going, const OnRestored& on_restored) {
  LiveScope live(rec_.live);
  if (tl.mode.empty()) tl.mode = goal.cidrBlock ? "subnet" : "single-az";
  bool restored = false;
  bool last_failed = false;
  for (int c = 1; c <= opts_.maxCycles; ++c) {
    if (keep_going && !keep_going()) {
      tl.error = "aborted: role changed";
      return makeError(ErrorCode::kConflict, tl.error);
    }
    rec_.cycle = c;
    tl.cycles = c;
    rec_.critical = !restored;
    auto obs = observe(goal, restored || last_failed, tl);
    if (!obs.ok()) {
      tl.error = obs.error().message;
      FLB_WARN("cloud", "takeover cycle {}: observe failed: {}", c, tl.error);
      last_failed = true;
      sleeper_.sleepFor(opts_.pollMax);
      continue;
    }
    auto plan = planTakeover(goal, *obs);
    if (!plan.ok()) {
      tl.error = plan.error().message;
      return plan.error();
    }
    if (plan->converged()) {
      tl.converged = true;
      tl.error.clear();
      const auto now_ms = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
      if (!restored) markRestored(tl, plan->context, on_restored);
      tl.doneMs = std::max(now_ms, tl.restoredMs.value_or(0));
      return TakeoverResult{plan->context, c};
    }
    TakeoverContext ctx = plan->context;
    TakeoverPlan todo = *plan;
    const size_t critical = plan->criticalSteps();
    if (critical > 0) {
      // Critical steps only: the deferred ones are planned again from a full observation.
      todo.steps.resize(critical);
      rec_.critical = true;
    } else if (!restored) {
      markRestored(tl, ctx, on_restored);
      restored = true;
      rec_.critical = false;
    }
    // The OS side (wait for the ENI's link, address, routes) starts as soon as the ENI is attached
    // and runs while the remaining calls (AssociateAddress: ~1 s) are in flight.
    std::thread os_thread;
    auto after_step = [&](const TakeoverStep& s, const TakeoverContext& c) {
      if (s.kind == StepKind::kAttachEni && on_restored && !restored && !os_thread.joinable()) {
        os_thread = std::thread(on_restored, c);
      }
    };
    auto st = execute(todo, goal, ctx, tl, keep_going, after_step);
    const bool os_done = os_thread.joinable();
    if (os_done) os_thread.join();
    if (!st.ok()) {
      tl.error = st.error().message;
      FLB_WARN("cloud", "takeover cycle {}: {}", c, tl.error);
      last_failed = true;
      if (st.error().code == ErrorCode::kConflict && keep_going && !keep_going()) return st.error();
      sleeper_.sleepFor(opts_.pollInitial);
      continue;
    }
    last_failed = false;
    if (critical > 0) {
      markRestored(tl, ctx, os_done ? OnRestored{} : on_restored);
      restored = true;
    }
  }
  if (tl.error.empty()) tl.error = "not converged";
  return makeError(ErrorCode::kTimeout, "takeover did not converge in " + std::to_string(opts_.maxCycles) +
                                            " cycles: " + tl.error);
}

Result<TakeoverPlan> TakeoverExecutor::plan(const TakeoverGoal& goal, TakeoverTimeline& tl) {
  rec_.critical = true;
  rec_.cycle = 1;
  if (tl.mode.empty()) tl.mode = goal.cidrBlock ? "subnet" : "single-az";
  FLB_ASSIGN_OR_RETURN(auto obs, observe(goal, true, tl));
  return planTakeover(goal, obs);
}

Status TakeoverExecutor::prepare(const TakeoverGoal& goal, TakeoverTimeline& tl) {
  rec_.critical = false;
  auto obs = observe(goal, true, tl);
  if (!obs.ok()) return obs.error();
  return okStatus();
}

void TakeoverExecutor::markRestored(TakeoverTimeline& tl, const TakeoverContext& ctx,
                                    const OnRestored& on_restored) {
  if (on_restored) on_restored(ctx);  // OS side (interface, addresses) is part of restoring traffic
  tl.restoredMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
}

Status TakeoverExecutor::cleanup(const TakeoverGoal& goal, TakeoverTimeline& tl) {
  LiveScope live(rec_.live);
  rec_.critical = false;
  for (int c = 1; c <= opts_.maxCycles; ++c) {
    rec_.cycle = c;
    tl.cycles = c;
    auto obs = observe(goal, false, tl);
    if (!obs.ok()) {
      tl.error = obs.error().message;
      sleeper_.sleepFor(opts_.pollMax);
      continue;
    }
    auto plan = planCleanup(goal, *obs);
    if (!plan.ok()) return plan.error();
    if (plan->converged()) {
      tl.converged = true;
      tl.doneMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
      return okStatus();
    }
    TakeoverContext ctx;
    if (auto st = execute(*plan, goal, ctx, tl, {}); !st.ok()) {
      tl.error = st.error().message;
      sleeper_.sleepFor(opts_.pollInitial);
    }
  }
  return makeError(ErrorCode::kTimeout, "cleanup did not converge: " + tl.error);
}

}  // namespace floatlb::cloud::takeover
