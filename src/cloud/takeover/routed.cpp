#include "cloud/takeover/routed.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace floatlb::cloud::takeover {

namespace {

bool overlaps(const std::string& text, const Cidr& s) {
  auto c = Cidr::parse(text, true);
  return c && (c->contains(s.network()) || s.contains(c->network()));
}

const RouteTable* findTable(const std::vector<RouteTable>& tables, const std::string& id) {
  for (const auto& t : tables) {
    if (t.routeTableId == id) return &t;
  }
  return nullptr;
}

bool servesOtherSubnet(const RouteTable& t, const std::string& vip_subnet) {
  for (const auto& a : t.associations) {
    if (!a.gatewayId.empty()) return false;  // a gateway (edge) table
    if (a.main || (!a.subnetId.empty() && a.subnetId != vip_subnet)) return true;
  }
  return false;
}

uint64_t parseEpoch(const std::string& s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : 0;
}

}  // namespace

const char* routedStepName(RoutedStepKind k) {
  switch (k) {
    case RoutedStepKind::kCreateSubnet:
      return "CreateSubnet";
    case RoutedStepKind::kCreateVipEni:
      return "CreateNetworkInterface";
    case RoutedStepKind::kAssignVips:
      return "AssignPrivateIpAddresses";
    case RoutedStepKind::kAssociateAddress:
      return "AssociateAddress";
    case RoutedStepKind::kCreateGatewayTable:
      return "CreateRouteTable";
    case RoutedStepKind::kAssociateGateway:
      return "AssociateRouteTable";
    case RoutedStepKind::kDisableSourceDestCheck:
      return "ModifyNetworkInterfaceAttribute";
  }
  return "?";
}

std::string describeRoutedStep(const RoutedStep& s) {
  std::string out = routedStepName(s.kind);
  if (!s.id.empty()) out += " " + s.id;
  for (const auto& ip : s.ips) out += " " + ip;
  if (!s.why.empty()) out += " (" + s.why + ")";
  return out;
}

void updateRouteStates(const RoutedGoal& goal, RoutedContext& ctx, const std::vector<RouteTable>& tables) {
  const std::string dest = goal.cidrBlock.str();
  for (auto& r : ctx.routes) {
    const RouteTable* t = findTable(tables, r.routeTableId);
    if (t == nullptr) continue;  // not described this time: keep what is known
    r.exists = false;
    r.target.clear();
    r.blackhole = false;
    for (const auto& route : t->routes) {
      if (route.destinationCidrBlock != dest) continue;
      r.exists = true;
      r.target = route.networkInterfaceId;
      r.blackhole = route.state == "blackhole";
    }
  }
}

Result<RoutedPlan> planRoutedPrepare(const RoutedGoal& goal, const RoutedObservation& obs) {
  RoutedPlan plan;
  RoutedContext& ctx = plan.context;
  const RoutedTags& tags = goal.tags;
  const std::string block = goal.cidrBlock.str();
  if (obs.internetGatewayId.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "routed mode: no internet gateway is attached to " + goal.vpcId);
  }
  // --- the VIP subnet S: ours (tagged), exactly the block, overlapping nothing else ---
  for (const auto& s : obs.subnets) {
    if (s.cidrBlock == block && hasTag(s.tags, tags.key, tags.subnet())) {
      ctx.subnetId = s.subnetId;
    } else if (overlaps(s.cidrBlock, goal.cidrBlock)) {
      return makeError(ErrorCode::kConflict, "routed mode: " + block + " overlaps subnet " + s.subnetId +
                                                 " (" + s.cidrBlock + ") which is not tagged " + tags.key +
                                                 "=" + tags.subnet());
    }
  }
  if (ctx.subnetId.empty()) {
    std::string az = goal.vipAz;
    if (az.empty()) {
      std::set<std::string> lb_azs = {goal.availabilityZone};
      for (const auto& e : obs.enis) {
        if (std::find(goal.peerIps.begin(), goal.peerIps.end(), e.privateIpAddress) != goal.peerIps.end()) {
          lb_azs.insert(e.availabilityZone);
        }
      }
      std::set<std::string> azs;
      for (const auto& s : obs.subnets) azs.insert(s.availabilityZone);
      for (const auto& a : azs) {
        if (!lb_azs.count(a)) {
          az = a;
          break;
        }
      }
      if (az.empty()) {
        return makeError(ErrorCode::kInvalidArgument,
                         "routed mode: every AZ of " + goal.vpcId +
                             " hosts an LB; the VIP subnet needs one that "
                             "does not (create a subnet in a third AZ, or name the AZ)");
      }
    }
    plan.steps.push_back({RoutedStepKind::kCreateSubnet, az, {}, "", "VIP subnet " + block + " in " + az});
  }
  // --- the VIP ENI in S, holding every VIP ---
  std::vector<std::string> vips;
  for (const auto& v : goal.vips) vips.push_back(v.vip.str());
  const NetworkInterface* vip_eni = nullptr;
  for (const auto& e : obs.enis) {
    if (!hasTag(e.tags, tags.key, tags.eni())) continue;
    if (vip_eni == nullptr || e.networkInterfaceId < vip_eni->networkInterfaceId) vip_eni = &e;
  }
  if (vip_eni == nullptr) {
    plan.steps.push_back(
        {RoutedStepKind::kCreateVipEni, "", vips, "", "VIP ENI in S (never attached, never moved)"});
  } else {
    ctx.vipEniId = vip_eni->networkInterfaceId;
    std::vector<std::string> missing;
    for (const auto& ip : vips) {
      if (std::find(vip_eni->privateIpAddresses.begin(), vip_eni->privateIpAddresses.end(), ip) ==
          vip_eni->privateIpAddresses.end()) {
        missing.push_back(ip);
      }
    }
    if (!missing.empty())
      plan.steps.push_back({RoutedStepKind::kAssignVips, ctx.vipEniId, missing, "", "new VIPs"});
  }
  // --- each EIP associated once with (VIP ENI, VIP) ---
  if (!ctx.vipEniId.empty()) {
    for (const auto& v : goal.vips) {
      if (v.eip.empty()) continue;
      const Address* a = nullptr;
      for (const auto& x : obs.addresses) {
        if (x.publicIp == v.eip) a = &x;
      }
      if (a == nullptr)
        return makeError(ErrorCode::kNotFound, "routed mode: Elastic IP " + v.eip + " not found");
      if (a->networkInterfaceId != ctx.vipEniId || a->privateIpAddress != v.vip.str()) {
        plan.steps.push_back({RoutedStepKind::kAssociateAddress,
                              a->allocationId,
                              {v.vip.str()},
                              "",
                              v.eip + " -> VIP ENI " + v.vip.str()});
      }
    }
  }
  // --- the gateway route table, edge-associated with the IGW (one per gateway) ---
  const RouteTable* gw = nullptr;
  bool gw_associated = false;
  for (const auto& t : obs.routeTables) {
    const bool ours = hasTag(t.tags, tags.key, tags.gatewayTable());
    if (ours && gw == nullptr) gw = &t;
    for (const auto& a : t.associations) {
      if (a.gatewayId != obs.internetGatewayId) continue;
      if (!ours) {
        return makeError(ErrorCode::kConflict,
                         "routed mode: route table " + t.routeTableId +
                             " (not ours) is "
                             "already associated with " +
                             obs.internetGatewayId + "; AWS allows one per gateway: add the route for " +
                             block + " to it and tag it " + tags.key + "=" + tags.gatewayTable());
      }
      gw_associated = true;
    }
  }
  if (gw == nullptr) {
    plan.steps.push_back({RoutedStepKind::kCreateGatewayTable, goal.vpcId, {}, "", "gateway route table"});
  } else {
    ctx.gatewayTableId = gw->routeTableId;
    if (!gw_associated) {
      plan.steps.push_back({RoutedStepKind::kAssociateGateway,
                            gw->routeTableId,
                            {},
                            obs.internetGatewayId,
                            "edge association with " + obs.internetGatewayId});
    }
  }
  // --- source/dest check off on my primary ENI (it forwards for S) ---
  for (const auto& e : obs.enis) {
    if (e.networkInterfaceId == goal.eniId && e.sourceDestCheck) {
      plan.steps.push_back(
          {RoutedStepKind::kDisableSourceDestCheck, goal.eniId, {}, "", "forwards for " + block});
    }
  }
  // --- the tables the failover writes: gateway first, then the backend tables ---
  if (!goal.routeTableIds.empty()) {
    ctx.routeTableIds = goal.routeTableIds;
  } else {
    for (const auto& t : obs.routeTables) {
      if (gw != nullptr && t.routeTableId == gw->routeTableId) continue;
      if (servesOtherSubnet(t, ctx.subnetId)) ctx.routeTableIds.push_back(t.routeTableId);
    }
    std::sort(ctx.routeTableIds.begin(), ctx.routeTableIds.end());
  }
  if (!ctx.gatewayTableId.empty()) ctx.routes.push_back({ctx.gatewayTableId});
  for (const auto& id : ctx.routeTableIds) ctx.routes.push_back({id});
  updateRouteStates(goal, ctx, obs.routeTables);
  return plan;
}

std::vector<RouteWrite> failoverWrites(const RoutedGoal& goal, const RoutedContext& ctx) {
  std::vector<RouteWrite> out;
  (void)goal;
  // Every route, even one the cache says is ours: the cache is what we last read or wrote, and the
  // peer may have replaced the route since (a BACKUP term reads nothing). Re-writing our own target
  // is harmless (ReplaceRoute is idempotent) and costs no extra round; skipping it left a returning
  // master with the routes on the peer until the next verify (3 s, routed_failover.sh found it).
  for (const auto& r : ctx.routes) out.push_back({r.routeTableId, r.exists});
  return out;
}

RoutedVerdict verifyRoutes(const RoutedGoal& goal, const RoutedContext& ctx,
                           const std::vector<RouteTable>& tables) {
  RoutedVerdict v;
  RoutedContext now = ctx;
  updateRouteStates(goal, now, tables);
  std::vector<RouteWrite> missing, on_peer;
  std::string peer;
  for (const auto& r : now.routes) {
    if (findTable(tables, r.routeTableId) == nullptr) {
      v.kind = RoutedVerdict::Kind::kReassert;
      v.reason = "route table " + r.routeTableId + " not found";
      missing.push_back({r.routeTableId, false});
    } else if (!r.exists || r.blackhole || r.target.empty()) {
      missing.push_back({r.routeTableId, r.exists});
    } else if (r.target != goal.eniId) {
      on_peer.push_back({r.routeTableId, true});
      peer = r.target;
    }
  }
  std::string owner;
  uint64_t epoch = 0;
  if (const RouteTable* gw = findTable(tables, ctx.gatewayTableId)) {
    owner = findTag(gw->tags, goal.tags.ownerKey).value_or("");
    epoch = parseEpoch(findTag(gw->tags, goal.tags.epochKey).value_or(""));
  }
  if (!on_peer.empty()) {
    // §5: never re-assert against the peer, unless its tag says it is the older writer.
    const bool peer_stale = !owner.empty() && owner != goal.instanceId &&
                            (epoch < goal.epoch || (epoch == goal.epoch && goal.instanceId > owner));
    if (!peer_stale) {
      v.kind = RoutedVerdict::Kind::kStepDown;
      v.reason = "routes for " + goal.cidrBlock.str() + " point at " + peer +
                 (owner.empty() ? "" : " (tagged by " + owner + ", epoch " + std::to_string(epoch) + ")");
      return v;
    }
    missing.insert(missing.end(), on_peer.begin(), on_peer.end());
    v.reason = "routes on " + peer + ", a stale writer (its epoch " + std::to_string(epoch) + " < mine " +
               std::to_string(goal.epoch) + ")";
  }
  if (!missing.empty()) {
    v.kind = RoutedVerdict::Kind::kReassert;
    if (v.reason.empty()) v.reason = std::to_string(missing.size()) + " route(s) missing or blackholed";
    std::sort(missing.begin(), missing.end());
    v.writes = std::move(missing);
  }
  v.retag = !ctx.gatewayTableId.empty() && (owner != goal.instanceId || epoch != goal.epoch);
  return v;
}

std::vector<DryRunCall> routedDryRunCalls(const RoutedGoal& goal, const RoutedObservation& obs,
                                          const RoutedPlan& plan) {
  const RoutedContext& c = plan.context;
  const std::string s = goal.cidrBlock.str();
  auto or_example = [](const std::string& id, const char* example) {
    return id.empty() ? std::string(example) : id;
  };
  const std::string gw = or_example(c.gatewayTableId, "rtb-00000000000000000");
  const std::string subnet = or_example(c.subnetId, "subnet-00000000000000000");
  const std::string vip_eni = or_example(c.vipEniId, "eni-00000000000000000");
  std::vector<DryRunCall> out = {
      {"DescribeRouteTables", {{"Filter.1.Name", "vpc-id"}, {"Filter.1.Value.1", goal.vpcId}}},
      {"DescribeSubnets", {{"Filter.1.Name", "vpc-id"}, {"Filter.1.Value.1", goal.vpcId}}},
      {"DescribeNetworkInterfaces", {{"NetworkInterfaceId.1", goal.eniId}}},
      {"DescribeAddresses", {}},
      {"DescribeInternetGateways", {}},
      {"ReplaceRoute",
       {{"RouteTableId", gw}, {"DestinationCidrBlock", s}, {"NetworkInterfaceId", goal.eniId}}},
      {"CreateRoute",
       {{"RouteTableId", gw}, {"DestinationCidrBlock", s}, {"NetworkInterfaceId", goal.eniId}}},
      {"CreateTags", {{"ResourceId.1", gw}, {"Tag.1.Key", goal.tags.epochKey}, {"Tag.1.Value", "0"}}},
      {"CreateSubnet", {{"VpcId", goal.vpcId}, {"CidrBlock", s}}},
      {"CreateNetworkInterface", {{"SubnetId", subnet}}},
      {"AssignPrivateIpAddresses",
       {{"NetworkInterfaceId", vip_eni}, {"SecondaryPrivateIpAddressCount", "1"}}},
      {"CreateRouteTable", {{"VpcId", goal.vpcId}}},
      {"AssociateRouteTable",
       {{"RouteTableId", gw}, {"GatewayId", or_example(obs.internetGatewayId, "igw-00000000000000000")}}},
      {"ModifyNetworkInterfaceAttribute",
       {{"NetworkInterfaceId", goal.eniId}, {"SourceDestCheck.Value", "false"}}},
  };
  for (const auto& id : c.routeTableIds) {
    out.push_back({"ReplaceRoute",
                   {{"RouteTableId", id}, {"DestinationCidrBlock", s}, {"NetworkInterfaceId", goal.eniId}}});
  }
  for (const auto& a : obs.addresses) {
    out.push_back({"AssociateAddress", {{"AllocationId", a.allocationId}, {"NetworkInterfaceId", vip_eni}}});
  }
  return out;
}

std::vector<std::string> routedFindings(const RoutedGoal& goal, const RoutedObservation& obs) {
  std::vector<std::string> out;
  auto plan = planRoutedPrepare(goal, obs);
  if (!plan.ok()) {
    out.push_back(plan.error().message);
  } else {
    for (const auto& s : plan->steps) {
      if (s.kind != RoutedStepKind::kDisableSourceDestCheck)
        out.push_back("prepare would: " + describeRoutedStep(s));
    }
  }
  for (const auto& e : obs.enis) {
    const bool mine = e.networkInterfaceId == goal.eniId;
    const bool peer =
        std::find(goal.peerIps.begin(), goal.peerIps.end(), e.privateIpAddress) != goal.peerIps.end();
    if (!mine && !peer) continue;
    const std::string who = (mine ? "my primary ENI " : "peer ENI ") + e.networkInterfaceId;
    if (e.sourceDestCheck) {
      out.push_back(who + ": source/dest check is on — it drops traffic for " + goal.cidrBlock.str() +
                    " (ModifyNetworkInterfaceAttribute SourceDestCheck=false)");
    }
    if (e.publicIp.empty()) {
      out.push_back(who + ": no public IP — a gateway route table may only target an ENI that has one");
    }
  }
  return out;
}

}  // namespace floatlb::cloud::takeover
