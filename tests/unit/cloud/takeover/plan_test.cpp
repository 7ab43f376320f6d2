// The pure takeover planner on hand-built observations.
#include "cloud/takeover/plan.h"

#include <gtest/gtest.h>

namespace floatlb::cloud::takeover {
namespace {

using namespace floatlb::cloud::aws;  // NOLINT(google-build-using-namespace): EC2 value types

const Tags kEniTag = {{"loxiType", "loxilb-eni"}};
const Tags kSubnetTag = {{"loxiType", "loxilb-subnet"}};
const Tags kRtTag = {{"loxiType", "loxilb-routetable"}};

TakeoverGoal goalB() {
  TakeoverGoal g;
  g.instanceId = "i-b";
  g.availabilityZone = "az-b";
  g.vpcId = "vpc-1";
  g.securityGroupIds = {"sg-1"};
  g.cidrBlock = Cidr::parse("192.168.248.0/24").value();
  g.vips = {{Ip4::parse("192.168.248.254").value(), "198.18.100.1"}};
  return g;
}

Vpc vpc1() { return Vpc{"vpc-1", "192.168.0.0/16", "available", {}, {}}; }

NetworkInterface eni(std::string id, std::string subnet, std::string az, std::string instance,
                     std::string att_status = "attached") {
  NetworkInterface e;
  e.networkInterfaceId = std::move(id);
  e.subnetId = std::move(subnet);
  e.availabilityZone = std::move(az);
  e.vpcId = "vpc-1";
  e.macAddress = "02:00:00:00:00:01";
  e.privateIpAddress = "192.168.248.10";
  e.privateIpAddresses = {"192.168.248.10"};
  e.status = instance.empty() ? "available" : "in-use";
  if (!instance.empty())
    e.attachment = NetworkInterfaceAttachment{"att-" + e.networkInterfaceId, instance, 1, att_status};
  e.tags = kEniTag;
  return e;
}

std::vector<StepKind> kinds(const TakeoverPlan& p, bool critical_only = false) {
  std::vector<StepKind> out;
  for (const auto& s : p.steps) {
    if (!critical_only || s.critical) out.push_back(s.kind);
  }
  return out;
}

using K = StepKind;

TEST(TakeoverPlan, EmptyWorldBuildsEverythingAndDefersRouteTableAndSourceDestCheck) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.internetGatewayId = "igw-1";
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok()) << p.error().message;
  // The VIP rides on CreateNetworkInterface (no AssignPrivateIpAddresses); the attachment waiter is
  // deferred (the daemon waits for the interface locally).
  EXPECT_EQ(kinds(*p), (std::vector<K>{K::kCreateSubnet, K::kCreateEni, K::kAttachEni, K::kAssociateAddress,
                                       K::kWaitEniAttached, K::kDisableSourceDestCheck, K::kCreateRouteTable,
                                       K::kCreateRoute, K::kAssociateRouteTable}));
  EXPECT_EQ(p->criticalSteps(), 4u);
  EXPECT_EQ(p->steps[1].ips, std::vector<std::string>{"192.168.248.254"});
  EXPECT_EQ(p->steps[3].allocationId, "eipalloc-1");
  EXPECT_EQ(p->steps[7].gatewayId, "igw-1");
}

TEST(TakeoverPlan, OldMasterInOtherAzIsDetachedWaitedDeletedBeforeTheSubnetMoves) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.internetGatewayId = "igw-1";
  obs.enis = {eni("eni-old", "subnet-a", "az-a", "i-a")};
  obs.subnets = {Subnet{"subnet-a", "vpc-1", "192.168.248.0/24", "az-a", "available", kSubnetTag}};
  RouteTable rt{
      "rtb-1", "vpc-1", {{"rtbassoc-1", "subnet-a", false}}, {{"0.0.0.0/0", "igw-1", "", "active"}}, kRtTag};
  obs.routeTables = {rt};
  obs.addresses = {
      Address{"198.18.100.1", "eipalloc-1", "eipassoc-1", "vpc", "i-a", "eni-old", "192.168.248.254", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(kinds(*p, true),
            (std::vector<K>{K::kDetachEni, K::kWaitEniDetached, K::kDeleteEni, K::kDeleteSubnet,
                            K::kCreateSubnet, K::kCreateEni, K::kAttachEni, K::kAssociateAddress}));
  EXPECT_EQ(p->steps[0].attachmentId, "att-eni-old");
  // The route table is kept (not AZ bound): no delete/create, only the association moves.
  EXPECT_EQ(kinds(*p).back(), K::kAssociateRouteTable);
  for (const auto& s : p->steps) {
    EXPECT_NE(s.kind, K::kCreateRouteTable);
    EXPECT_NE(s.kind, K::kDeleteRouteTable);
    EXPECT_NE(s.kind, K::kCreateRoute);
  }
  EXPECT_EQ(p->context.routeTableId, "rtb-1");
}

TEST(TakeoverPlan, ConvergedStateNeedsNothing) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.internetGatewayId = "igw-1";
  auto e = eni("eni-b", "subnet-b", "az-b", "i-b");
  e.privateIpAddresses.push_back("192.168.248.254");
  e.sourceDestCheck = false;
  obs.enis = {e};
  obs.subnets = {Subnet{"subnet-b", "vpc-1", "192.168.248.0/24", "az-b", "available", kSubnetTag}};
  obs.routeTables = {RouteTable{
      "rtb-1", "vpc-1", {{"rtbassoc-2", "subnet-b", false}}, {{"0.0.0.0/0", "igw-1", "", "active"}}, kRtTag}};
  obs.addresses = {
      Address{"198.18.100.1", "eipalloc-1", "eipassoc-2", "vpc", "i-b", "eni-b", "192.168.248.254", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->converged()) << describeStep(p->steps.front());
  EXPECT_EQ(p->context.eniId, "eni-b");
  EXPECT_EQ(p->context.eniMac, "02:00:00:00:00:01");

  // The EIP pulled away by someone else: only AssociateAddress is planned.
  obs.addresses[0].networkInterfaceId = "eni-x";
  p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p), std::vector<K>{K::kAssociateAddress});
}

TEST(TakeoverPlan, EniInMyAzAttachedToThePeerIsMovedNotRecreated) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.enis = {eni("eni-b", "subnet-b", "az-b", "i-other")};
  obs.subnets = {Subnet{"subnet-b", "vpc-1", "192.168.248.0/24", "az-b", "available", kSubnetTag}};
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p, true), (std::vector<K>{K::kDetachEni, K::kWaitEniDetached, K::kAttachEni,
                                             K::kAssignPrivateIps, K::kAssociateAddress}));
  EXPECT_EQ(kinds(*p)[5], K::kWaitEniAttached);  // deferred
}

TEST(TakeoverPlan, DetachingEniIsOnlyWaitedFor) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.enis = {eni("eni-old", "subnet-a", "az-a", "i-a", "detaching")};
  obs.subnets = {Subnet{"subnet-a", "vpc-1", "192.168.248.0/24", "az-a", "available", kSubnetTag}};
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->steps[0].kind, K::kWaitEniDetached);
  EXPECT_EQ(p->steps[1].kind, K::kDeleteEni);
}

TEST(TakeoverPlan, BlockOutsideTheVpcIsAssociatedAndWaitedFor) {
  TakeoverObservation obs;
  Vpc other{
      "vpc-2", "10.0.0.0/16", "available", {{"vpc-cidr-assoc-9", "124.124.124.0/24", "associated"}}, {}};
  obs.vpcs = {vpc1(), other};
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  auto g = goalB();
  g.cidrBlock = Cidr::parse("124.124.124.0/24").value();
  g.vips = {{Ip4::parse("124.124.124.250").value(), "198.18.100.1"}};
  auto p = planTakeover(g, obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p, true)[0], K::kDisassociateVpcCidr);
  EXPECT_EQ(kinds(*p, true)[1], K::kAssociateVpcCidr);
  EXPECT_EQ(kinds(*p, true)[2], K::kWaitVpcCidr);
  EXPECT_EQ(kinds(*p, true)[3], K::kCreateSubnet);
  // Already associated with my VPC: nothing to do for the block.
  obs.vpcs[0].cidrBlockAssociations = {{"vpc-cidr-assoc-1", "124.124.124.0/24", "associated"}};
  obs.vpcs.pop_back();
  p = planTakeover(g, obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p, true)[0], K::kCreateSubnet);
}

TEST(TakeoverPlan, UnreachableGoalsAreErrors) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  auto g = goalB();
  g.vips = {{Ip4::parse("10.9.9.9").value(), ""}};
  auto p = planTakeover(g, obs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  // An EIP the account does not have.
  p = planTakeover(goalB(), obs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kNotFound);
  // An untagged subnet occupies the block.
  obs.subnets = {Subnet{"subnet-x", "vpc-1", "192.168.248.0/25", "az-b", "available", {}}};
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  p = planTakeover(goalB(), obs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kConflict);
}

TEST(TakeoverPlan, DuplicateTaggedResourcesFromACrashAreCleanedUp) {
  TakeoverObservation obs;
  obs.vpcs = {vpc1()};
  obs.internetGatewayId = "igw-1";
  auto mine = eni("eni-b1", "subnet-b", "az-b", "i-b");
  auto leaked = eni("eni-b2", "subnet-b", "az-b", "");
  obs.enis = {leaked, mine};
  obs.subnets = {Subnet{"subnet-b", "vpc-1", "192.168.248.0/24", "az-b", "available", kSubnetTag}};
  obs.routeTables = {RouteTable{"rtb-2", "vpc-1", {}, {}, kRtTag},
                     RouteTable{"rtb-1", "vpc-1", {}, {}, kRtTag}};
  obs.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  auto p = planTakeover(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->context.eniId, "eni-b1");        // the one attached to me is kept
  EXPECT_EQ(p->context.routeTableId, "rtb-1");  // lowest id: both nodes agree
  bool deleted_leak = false, deleted_rt = false;
  for (const auto& s : p->steps) {
    deleted_leak |= s.kind == K::kDeleteEni && s.id == "eni-b2";
    deleted_rt |= s.kind == K::kDeleteRouteTable && s.id == "rtb-2";
    EXPECT_FALSE(s.kind == K::kCreateEni);
  }
  EXPECT_TRUE(deleted_leak);
  EXPECT_TRUE(deleted_rt);
}

TEST(TakeoverPlan, SingleAzMovesTheSecondaryIpAndLetsTheEipFollow) {
  TakeoverGoal g;
  g.instanceId = "i-b";
  g.vpcId = "vpc-1";
  g.vips = {{Ip4::parse("192.168.218.250").value(), "198.18.100.1"}};
  TakeoverObservation obs;
  NetworkInterface primary = eni("eni-pb", "subnet-a", "az-a", "i-b");
  primary.attachment->deviceIndex = 0;
  primary.privateIpAddresses = {"192.168.218.61"};
  obs.enis = {primary};
  obs.subnets = {Subnet{"subnet-a", "vpc-1", "192.168.218.0/24", "az-a", "available", {}}};
  // The EIP points at the VIP on the peer's ENI: it follows the IP, no AssociateAddress.
  obs.addresses = {
      Address{"198.18.100.1", "eipalloc-1", "eipassoc-1", "vpc", "i-a", "eni-pa", "192.168.218.250", {}}};
  auto p = planTakeover(g, obs);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(kinds(*p), std::vector<K>{K::kAssignPrivateIps});
  EXPECT_EQ(p->steps[0].id, "eni-pb");
  // The EIP not associated at all: associate it.
  obs.addresses[0].associationId.clear();
  obs.addresses[0].networkInterfaceId.clear();
  obs.addresses[0].privateIpAddress.clear();
  p = planTakeover(g, obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p), (std::vector<K>{K::kAssignPrivateIps, K::kAssociateAddress}));
  // VIP outside every subnet of mine.
  g.vips = {{Ip4::parse("10.0.0.1").value(), ""}};
  EXPECT_FALSE(planTakeover(g, obs).ok());
}

TEST(TakeoverPlan, CleanupRemovesTaggedEnisAndSubnets) {
  TakeoverObservation obs;
  obs.enis = {eni("eni-b", "subnet-b", "az-b", "i-b")};
  obs.subnets = {Subnet{"subnet-b", "vpc-1", "192.168.248.0/24", "az-b", "available", kSubnetTag}};
  auto p = planCleanup(goalB(), obs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(kinds(*p), (std::vector<K>{K::kDetachEni, K::kWaitEniDetached, K::kDeleteEni, K::kDeleteSubnet}));
}

}  // namespace
}  // namespace floatlb::cloud::takeover
