#include "cloud/takeover/routed_exec.h"

#include <algorithm>
#include <thread>

#include "common/log.h"

namespace floatlb::cloud::takeover {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

Error callError(const char* action, const std::string& id, const aws::AwsError& e) {
  return Error{e.kind, std::string(action) + " " + id + ": " + awsText(e)};
}

}  // namespace

RoutedExecutor::RoutedExecutor(aws::Ec2Api& ec2, const Clock& clock, aws::Sleeper& sleeper,
                               ExecOptions options)
    : ec2_(ec2), clock_(clock), sleeper_(sleeper), opts_(options), rec_(ec2, clock) {}

TakeoverTimeline RoutedExecutor::startTimeline(std::string reason) const {
  TakeoverTimeline t;
  t.reason = std::move(reason);
  t.mode = "routed";
  t.detected = clock_.now();
  t.detectedWallMs = clock_.wallMillis();
  return t;
}

Result<RoutedObservation> RoutedExecutor::observe(const RoutedGoal& goal, TakeoverTimeline& tl) {
  RoutedObservation obs;
  const aws::Filters in_vpc = {{"vpc-id", {goal.vpcId}}};
  auto subnets = rec_(tl, "DescribeSubnets", goal.vpcId, [&] { return ec2_.describeSubnets(in_vpc); });
  if (!subnets.ok()) return subnets.error().toError();
  obs.subnets = std::move(subnets).value();
  auto rts = rec_(tl, "DescribeRouteTables", goal.vpcId, [&] { return ec2_.describeRouteTables(in_vpc); });
  if (!rts.ok()) return rts.error().toError();
  obs.routeTables = std::move(rts).value();
  auto vip_enis = rec_(tl, "DescribeNetworkInterfaces", goal.tags.eni(), [&] {
    return ec2_.describeNetworkInterfaces({{"tag:" + goal.tags.key, {goal.tags.eni()}}});
  });
  if (!vip_enis.ok()) return vip_enis.error().toError();
  obs.enis = std::move(vip_enis).value();
  std::vector<std::string> lb_ips = goal.peerIps;
  auto lbs = rec_(tl, "DescribeNetworkInterfaces", goal.eniId, [&] {
    aws::Filters f = {{"network-interface-id", {goal.eniId}}};
    return ec2_.describeNetworkInterfaces(f);
  });
  if (!lbs.ok()) return lbs.error().toError();
  for (auto& e : lbs.value()) obs.enis.push_back(std::move(e));
  if (!lb_ips.empty()) {
    auto peers = rec_(tl, "DescribeNetworkInterfaces", lb_ips.front(), [&] {
      return ec2_.describeNetworkInterfaces({{"addresses.private-ip-address", lb_ips}});
    });
    if (!peers.ok()) return peers.error().toError();
    for (auto& e : peers.value()) obs.enis.push_back(std::move(e));
  }
  std::vector<std::string> eips;
  for (const auto& v : goal.vips) {
    if (!v.eip.empty()) eips.push_back(v.eip);
  }
  if (!eips.empty()) {
    auto addrs =
        rec_(tl, "DescribeAddresses", eips.front(), [&] { return ec2_.describeAddresses({}, eips); });
    if (!addrs.ok()) return addrs.error().toError();
    obs.addresses = std::move(addrs).value();
  }
  auto igws = rec_(tl, "DescribeInternetGateways", goal.vpcId, [&] {
    return ec2_.describeInternetGateways({{"attachment.vpc-id", {goal.vpcId}}});
  });
  if (!igws.ok()) return igws.error().toError();
  if (!igws->empty()) obs.internetGatewayId = igws->front().internetGatewayId;
  return obs;
}

Status RoutedExecutor::runStep(const RoutedStep& s, const RoutedGoal& goal, RoutedContext& ctx,
                               TakeoverTimeline& tl) {
  const char* action = routedStepName(s.kind);
  const auto& tags = goal.tags;
  switch (s.kind) {
    case RoutedStepKind::kCreateSubnet: {
      aws::CreateSubnetRequest req{goal.vpcId,
                                   goal.cidrBlock.str(),
                                   s.id,
                                   {aws::TagSpecification{"subnet", {{tags.key, tags.subnet()}}}}};
      auto r = rec_(tl, action, req.cidrBlock, [&] { return ec2_.createSubnet(req); });
      if (!r.ok()) return callError(action, req.cidrBlock, r.error());
      ctx.subnetId = r->subnetId;
      return okStatus();
    }
    case RoutedStepKind::kCreateVipEni: {
      if (ctx.subnetId.empty()) return makeError(ErrorCode::kInternal, "VIP ENI before its subnet");
      aws::CreateNetworkInterfaceRequest req;
      req.subnetId = ctx.subnetId;
      req.description = "floatlb routed VIP ENI";
      req.groupIds = goal.securityGroupIds;
      // The same token on every node and every retry: two nodes preparing at once make one ENI.
      req.clientToken = ("flb-vipeni-" + goal.vpcId + "-" + tags.instance).substr(0, 64);
      req.secondaryPrivateIps = s.ips;
      req.tagSpecifications = {aws::TagSpecification{"network-interface", {{tags.key, tags.eni()}}}};
      auto r = rec_(tl, action, ctx.subnetId, [&] { return ec2_.createNetworkInterface(req); });
      if (!r.ok()) return callError(action, ctx.subnetId, r.error());
      ctx.vipEniId = r->networkInterfaceId;
      return okStatus();
    }
    case RoutedStepKind::kAssignVips: {
      auto r = rec_(tl, action, s.id, [&] { return ec2_.assignPrivateIpAddresses(s.id, s.ips, false); });
      if (!r.ok()) return callError(action, s.id, r.error());
      return okStatus();
    }
    case RoutedStepKind::kAssociateAddress: {
      aws::AssociateAddressRequest req;
      req.allocationId = s.id;
      req.networkInterfaceId = ctx.vipEniId;
      req.privateIpAddress = s.ips.front();
      req.allowReassociation = true;
      auto r = rec_(tl, action, s.id, [&] { return ec2_.associateAddress(req); });
      if (!r.ok()) return callError(action, s.id, r.error());
      return okStatus();
    }
    case RoutedStepKind::kCreateGatewayTable: {
      auto r = rec_(tl, action, goal.vpcId, [&] {
        return ec2_.createRouteTable(
            goal.vpcId, {aws::TagSpecification{"route-table", {{tags.key, tags.gatewayTable()}}}});
      });
      if (!r.ok()) return callError(action, goal.vpcId, r.error());
      ctx.gatewayTableId = r->routeTableId;
      return okStatus();
    }
    case RoutedStepKind::kAssociateGateway: {
      auto r = rec_(tl, action, s.id, [&] { return ec2_.associateGatewayRouteTable(s.id, s.gatewayId); });
      if (!r.ok()) return callError(action, s.id, r.error());
      return okStatus();
    }
    case RoutedStepKind::kDisableSourceDestCheck: {
      auto r = rec_(tl, action, s.id, [&] { return ec2_.modifySourceDestCheck(s.id, false); });
      if (!r.ok()) return callError(action, s.id, r.error());
      return okStatus();
    }
  }
  return makeError(ErrorCode::kInternal, "unknown routed step");
}

Status RoutedExecutor::prepare(const RoutedGoal& goal, TakeoverTimeline& tl) {
  rec_.critical = false;
  std::string last_error;
  for (int c = 1; c <= opts_.maxCycles; ++c) {
    rec_.cycle = c;
    tl.cycles = c;
    auto obs = observe(goal, tl);
    if (!obs.ok()) {
      last_error = obs.error().message;
      sleeper_.sleepFor(opts_.pollMax);
      continue;
    }
    auto plan = planRoutedPrepare(goal, *obs);
    if (!plan.ok()) {
      tl.error = plan.error().message;
      return plan.error();
    }
    if (plan->converged()) {
      ctx_ = plan->context;
      tl.converged = true;
      tl.error.clear();
      tl.doneMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
      return okStatus();
    }
    RoutedContext ctx = plan->context;
    Status st = okStatus();
    for (const auto& s : plan->steps) {
      tl.log.push_back(describeRoutedStep(s));
      st = runStep(s, goal, ctx, tl);
      if (!st.ok()) break;
    }
    if (!st.ok()) {
      last_error = st.error().message;
      tl.error = last_error;
      FLB_WARN("cloud", "routed prepare cycle {}: {}", c, last_error);
      sleeper_.sleepFor(opts_.pollInitial);
    }
  }
  return makeError(ErrorCode::kTimeout, "routed prepare did not converge: " + last_error);
}

Status RoutedExecutor::writeRoutes(const RoutedGoal& goal, const std::vector<RouteWrite>& writes,
                                   TakeoverTimeline& tl) {
  const std::string dest = goal.cidrBlock.str();
  std::vector<Status> results(writes.size(), okStatus());
  auto one = [&](size_t i, bool concurrent) {
    const RouteWrite& w = writes[i];
    auto call = [&](bool replace) {
      return rec_(
          tl, replace ? "ReplaceRoute" : "CreateRoute", w.routeTableId,
          [&] {
            return replace ? ec2_.replaceRouteToInterface(w.routeTableId, dest, goal.eniId)
                           : ec2_.createRouteToInterface(w.routeTableId, dest, goal.eniId);
          },
          false, concurrent);
    };
    auto r = call(w.replace);
    // The cache was stale (someone created or deleted the route): the other call, one more round.
    if (!r.ok() && (r.error().is("RouteAlreadyExists") || r.error().is("InvalidRoute.NotFound"))) {
      r = call(!w.replace);
    }
    results[i] =
        r.ok() ? okStatus()
               : Status(callError(w.replace ? "ReplaceRoute" : "CreateRoute", w.routeTableId, r.error()));
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < writes.size(); ++i) threads.emplace_back(one, i, true);
  if (!writes.empty()) one(0, false);
  for (auto& t : threads) t.join();
  std::string errors;
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!results[i].ok()) {
      errors += (errors.empty() ? "" : "; ") + results[i].error().message;
      continue;
    }
    for (auto& r : ctx_->routes) {
      if (r.routeTableId != writes[i].routeTableId) continue;
      r.exists = true;
      r.target = goal.eniId;
      r.blackhole = false;
    }
  }
  if (!errors.empty()) return makeError(ErrorCode::kUnavailable, errors);
  return okStatus();
}

Status RoutedExecutor::tagOwnership(const RoutedGoal& goal, TakeoverTimeline& tl) {
  if (!ctx_ || ctx_->gatewayTableId.empty()) return okStatus();
  auto r = rec_(tl, "CreateTags", ctx_->gatewayTableId, [&] {
    return ec2_.createTags({ctx_->gatewayTableId}, {{goal.tags.epochKey, std::to_string(goal.epoch)},
                                                    {goal.tags.ownerKey, goal.instanceId}});
  });
  if (!r.ok()) return callError("CreateTags", ctx_->gatewayTableId, r.error());
  return okStatus();
}

Status RoutedExecutor::failover(const RoutedGoal& goal, TakeoverTimeline& tl) {
  if (!ctx_) return makeError(ErrorCode::kUnavailable, "routed mode is not prepared");
  rec_.live = true;
  rec_.cycle = 1;
  rec_.critical = true;
  tl.cycles = 1;
  const auto writes = failoverWrites(goal, *ctx_);
  for (const auto& w : writes)
    tl.log.push_back((w.replace ? "ReplaceRoute " : "CreateRoute ") + w.routeTableId);
  Status st = writeRoutes(goal, writes, tl);
  if (st.ok()) tl.restoredMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
  rec_.critical = false;
  if (st.ok()) {
    if (auto t = tagOwnership(goal, tl); !t.ok()) FLB_WARN("cloud", "epoch tag: {}", t.error().message);
    tl.converged = true;
    tl.doneMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
  } else {
    tl.error = st.error().message;
  }
  rec_.live = false;
  return st;
}

Result<RoutedVerdict> RoutedExecutor::verify(const RoutedGoal& goal, TakeoverTimeline& tl) {
  if (!ctx_) return makeError(ErrorCode::kUnavailable, "routed mode is not prepared");
  rec_.critical = false;
  std::vector<std::string> ids;
  for (const auto& r : ctx_->routes) ids.push_back(r.routeTableId);
  auto tables = rec_(tl, "DescribeRouteTables", ids.empty() ? "" : ids.front(), [&] {
    return ec2_.describeRouteTables({{"route-table-id", ids}});
  });
  if (!tables.ok()) return tables.error().toError();
  RoutedVerdict v = verifyRoutes(goal, *ctx_, *tables);
  updateRouteStates(goal, *ctx_, *tables);
  if (v.kind == RoutedVerdict::Kind::kReassert) {
    rec_.critical = true;
    FLB_TRY(writeRoutes(goal, v.writes, tl));
    rec_.critical = false;
    tl.restoredMs = duration_cast<milliseconds>(clock_.now() - tl.detected).count();
  }
  if (v.kind != RoutedVerdict::Kind::kStepDown && (v.retag || v.kind == RoutedVerdict::Kind::kReassert)) {
    FLB_TRY(tagOwnership(goal, tl));
  }
  return v;
}

}  // namespace floatlb::cloud::takeover
