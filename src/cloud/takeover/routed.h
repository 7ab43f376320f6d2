// Routed multi-AZ mode (--cloudmode=routed; design: reference/fast-failover.md §2(e), §5 and
// docs/cloud-hook.md). Nothing AZ-bound moves at failover: the VIP subnet S (--cloudcidrblock), its
// ENI holding the VIPs and the EIP associations are created once (prepare) and stay; only routes
// move — S -> the MASTER's primary ENI in a gateway route table edge-associated with the internet
// gateway (ingress routing) and, as a more-specific route, in every route table serving backends.
// This file is the pure part: what prepare still has to do, the failover's route writes (one round,
// no reads), and the verify rule (a MASTER that finds the routes on the peer steps down unless the
// epoch tags say the peer is the stale writer).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cloud/aws/ec2_types.h"
#include "cloud/takeover/plan.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::cloud::takeover {

// Tag values of the routed mode's resources (distinct from the subnet mode's, so planCleanup and
// the subnet planner never touch them): loxiType=loxilb-vipsubnet<inst>, -vipeni, -gwrt.
struct RoutedTags {
  std::string key = "loxiType";
  std::string prefix = "loxilb-";
  std::string instance;
  std::string epochKey = "floatlb-epoch";  // on the gateway route table, written after a win
  std::string ownerKey = "floatlb-owner";
  [[nodiscard]] std::string subnet() const { return prefix + "vipsubnet" + instance; }
  [[nodiscard]] std::string eni() const { return prefix + "vipeni" + instance; }
  [[nodiscard]] std::string gatewayTable() const { return prefix + "gwrt" + instance; }
};

struct RoutedGoal {
  std::string instanceId;  // me
  std::string eniId;       // my primary ENI (device 0): the routes' target when I am MASTER
  std::string availabilityZone;
  std::string vpcId;
  Cidr cidrBlock;                    // S
  std::string vipAz;                 // AZ of S; "" = the first AZ of the VPC hosting no LB
  std::vector<std::string> peerIps;  // the peers' primary private IPs (--cluster): their AZs host LBs
  // Route tables that get the more-specific route S -> master; empty = every table of the VPC that
  // serves a subnet other than S (and the main table), except the gateway table.
  std::vector<std::string> routeTableIds;
  std::vector<VipEip> vips;
  std::vector<std::string> securityGroupIds;  // for the VIP ENI
  RoutedTags tags;
  uint64_t epoch = 0;  // HA epoch of my current MASTER term
};

// What prepare's Describe calls returned (all of the VPC's subnets and route tables, the tagged
// VIP ENI, the goal's EIPs, the IGW, my primary ENI).
struct RoutedObservation {
  std::vector<Subnet> subnets;
  std::vector<RouteTable> routeTables;
  std::vector<NetworkInterface> enis;  // tagged VIP ENI(s), my primary ENI, the peers' primary ENIs
  std::vector<Address> addresses;
  std::string internetGatewayId;
};

enum class RoutedStepKind {
  kCreateSubnet,            // S in vipAz, tagged
  kCreateVipEni,            // in S, with the VIPs as secondary IPs, tagged
  kAssignVips,              // VIPs missing on the VIP ENI
  kAssociateAddress,        // EIP -> (VIP ENI, VIP)
  kCreateGatewayTable,      // tagged route table
  kAssociateGateway,        // edge association with the IGW
  kDisableSourceDestCheck,  // on my primary ENI
};
const char* routedStepName(RoutedStepKind k);

struct RoutedStep {
  RoutedStepKind kind;
  std::string id;  // resource acted on when known (ENI, route table, allocation id)
  std::vector<std::string> ips;
  std::string gatewayId;  // kAssociateGateway: the IGW
  std::string why;
};

// Ids prepare found or created; cached so the failover needs no read.
struct RoutedContext {
  std::string subnetId;
  std::string vipEniId;
  std::string gatewayTableId;
  std::vector<std::string> routeTableIds;  // backend tables (resolved)
  // Per table (gateway first, then backend tables): does a route for S exist, and where does it point.
  struct RouteState {
    std::string routeTableId;
    bool exists = false;
    std::string target;  // ENI id; "" if none / not an ENI
    bool blackhole = false;
  };
  std::vector<RouteState> routes;
};

struct RoutedPlan {
  std::vector<RoutedStep> steps;
  RoutedContext context;
  [[nodiscard]] bool converged() const { return steps.empty(); }
};

// Prepare (any role, idempotent, safe to re-run after a crash at any point): what still has to be
// created or fixed. Never writes an S route (only a MASTER does, see failoverWrites). Errors only
// for what can never work: S overlapping an untagged subnet, no AZ without an LB, a foreign gateway
// route table already on the IGW, no IGW.
Result<RoutedPlan> planRoutedPrepare(const RoutedGoal& goal, const RoutedObservation& obs);

// The failover: one write per table, all issued together. Replace where the route exists (cached),
// Create where it does not; also where the cache says it points at me (the cache may be stale).
struct RouteWrite {
  std::string routeTableId;
  bool replace = true;  // ReplaceRoute; false: CreateRoute
  auto operator<=>(const RouteWrite&) const = default;
};
std::vector<RouteWrite> failoverWrites(const RoutedGoal& goal, const RoutedContext& ctx);

// The verify rule, from one DescribeRouteTables of the context's tables.
struct RoutedVerdict {
  enum class Kind { kHeld, kReassert, kStepDown } kind = Kind::kHeld;
  std::vector<RouteWrite> writes;  // kReassert: tables to write (missing, blackholed, stale peer)
  bool retag = false;              // the gateway table's epoch/owner tags are not mine yet
  std::string reason;
};
RoutedVerdict verifyRoutes(const RoutedGoal& goal, const RoutedContext& ctx,
                           const std::vector<RouteTable>& tables);

// Refreshes ctx.routes from described tables (exists/target/blackhole for S).
void updateRouteStates(const RoutedGoal& goal, RoutedContext& ctx, const std::vector<RouteTable>& tables);

// flb-ec2 check: every EC2 call the routed mode makes, with parameters from the observation, to be
// sent with DryRun=true (an instance role lacking one answers UnauthorizedOperation).
struct DryRunCall {
  std::string action;
  std::vector<std::pair<std::string, std::string>> params;
};
std::vector<DryRunCall> routedDryRunCalls(const RoutedGoal& goal, const RoutedObservation& obs,
                                          const RoutedPlan& plan);
// What the VPC still lacks or has wrong for the routed mode, one line each ("" = ready): the plan's
// refusal, the steps prepare would still take, LB ENIs with source/dest check on or no public IP.
std::vector<std::string> routedFindings(const RoutedGoal& goal, const RoutedObservation& obs);

// "CreateSubnet 192.168.248.0/24 in ap-northeast-3c (...)".
std::string describeRoutedStep(const RoutedStep& s);

}  // namespace floatlb::cloud::takeover
