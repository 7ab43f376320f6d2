#include "cloud/aws/takeover_sequence.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace floatlb::cloud::aws {
namespace {

// A scripted in-memory Ec2Api: Describe* return canned state, mutations are recorded as
// "Action arg..." strings. Shows how planners can be tested without HTTP.
class ScriptedEc2 final : public Ec2Api {
 public:
  std::vector<std::string> calls;
  std::vector<NetworkInterface> enis;
  std::vector<Subnet> subnets;
  std::vector<RouteTable> routeTables;
  std::vector<Vpc> vpcs;
  std::vector<InternetGateway> igws{{"igw-1", {{"vpc-me", "available"}}, {}}};
  std::vector<Address> addresses{
      {"203.0.113.10", "eipalloc-1", "eipassoc-old", "vpc", "", "eni-old", "", {}}};
  int deleteEniFailures = 0;  // first N DeleteNetworkInterface calls fail (detach still in progress)

  AwsResult<std::vector<NetworkInterface>> describeNetworkInterfaces(const Filters&) override { return enis; }
  AwsResult<NetworkInterface> createNetworkInterface(const CreateNetworkInterfaceRequest& r) override {
    std::string sgs;
    for (const auto& g : r.groupIds) sgs += " " + g;
    calls.push_back("CreateNetworkInterface " + r.subnetId + sgs + " " +
                    r.tagSpecifications.at(0).tags.at(0).value);
    NetworkInterface e;
    e.networkInterfaceId = "eni-new";
    e.privateIpAddress = "124.124.124.9";
    return e;
  }
  AwsResult<std::string> attachNetworkInterface(const std::string& e, const std::string& i, int d) override {
    calls.push_back("AttachNetworkInterface " + e + " " + i + " " + std::to_string(d));
    return std::string("eni-attach-new");
  }
  AwsStatus detachNetworkInterface(const std::string& a, bool force) override {
    calls.push_back("DetachNetworkInterface " + a + (force ? " force" : ""));
    return {};
  }
  AwsStatus deleteNetworkInterface(const std::string& e) override {
    calls.push_back("DeleteNetworkInterface " + e);
    if (deleteEniFailures-- > 0)
      return AwsError{ErrorCode::kConflict, "InvalidNetworkInterface.InUse", "busy", "", 400, ""};
    return {};
  }
  AwsStatus modifySourceDestCheck(const std::string& e, bool on) override {
    calls.push_back("ModifyNetworkInterfaceAttribute " + e + (on ? " true" : " false"));
    return {};
  }
  AwsStatus assignPrivateIpAddresses(const std::string& e, const std::vector<std::string>& ips,
                                     bool re) override {
    calls.push_back("AssignPrivateIpAddresses " + e + " " + ips.at(0) + (re ? " reassign" : ""));
    return {};
  }
  AwsStatus unassignPrivateIpAddresses(const std::string&, const std::vector<std::string>&) override {
    return {};
  }
  AwsResult<std::vector<Subnet>> describeSubnets(const Filters&) override { return subnets; }
  AwsResult<Subnet> createSubnet(const CreateSubnetRequest& r) override {
    calls.push_back("CreateSubnet " + r.vpcId + " " + r.cidrBlock + " " + r.availabilityZone);
    return Subnet{"subnet-new", r.vpcId, r.cidrBlock, r.availabilityZone, "available", {}};
  }
  AwsStatus deleteSubnet(const std::string& s) override {
    calls.push_back("DeleteSubnet " + s);
    return {};
  }
  AwsResult<std::vector<RouteTable>> describeRouteTables(const Filters&) override { return routeTables; }
  AwsResult<RouteTable> createRouteTable(const std::string& v,
                                         const std::vector<TagSpecification>&) override {
    calls.push_back("CreateRouteTable " + v);
    RouteTable t;
    t.routeTableId = "rtb-new";
    return t;
  }
  AwsResult<std::string> associateRouteTable(const std::string& t, const std::string& s) override {
    calls.push_back("AssociateRouteTable " + t + " " + s);
    return std::string("rtbassoc-new");
  }
  AwsStatus disassociateRouteTable(const std::string& a) override {
    calls.push_back("DisassociateRouteTable " + a);
    return {};
  }
  AwsStatus deleteRouteTable(const std::string& t) override {
    calls.push_back("DeleteRouteTable " + t);
    return {};
  }
  AwsStatus createRoute(const std::string& t, const std::string& d, const std::string& g) override {
    calls.push_back("CreateRoute " + t + " " + d + " " + g);
    return {};
  }
  AwsResult<std::vector<Vpc>> describeVpcs(const Filters&) override { return vpcs; }
  AwsResult<VpcCidrBlockAssociation> associateVpcCidrBlock(const std::string& v,
                                                           const std::string& c) override {
    calls.push_back("AssociateVpcCidrBlock " + v + " " + c);
    return VpcCidrBlockAssociation{"vpc-cidr-assoc-new", c, "associating"};
  }
  AwsStatus disassociateVpcCidrBlock(const std::string& a) override {
    calls.push_back("DisassociateVpcCidrBlock " + a);
    return {};
  }
  AwsResult<std::vector<InternetGateway>> describeInternetGateways(const Filters&) override { return igws; }
  AwsResult<std::vector<Address>> describeAddresses(const Filters&,
                                                    const std::vector<std::string>&) override {
    return addresses;
  }
  AwsResult<Address> allocateAddress(const std::vector<TagSpecification>&) override { return Address{}; }
  AwsResult<std::string> associateAddress(const AssociateAddressRequest& r) override {
    calls.push_back("AssociateAddress " + r.allocationId + " " + r.networkInterfaceId + " " +
                    r.privateIpAddress + (r.allowReassociation ? " reassociate" : ""));
    return std::string("eipassoc-new");
  }
  AwsStatus disassociateAddress(const std::string&) override { return {}; }
  AwsStatus createTags(const std::vector<std::string>&, const Tags&) override { return {}; }
  AwsResult<std::vector<Instance>> describeInstances(const Filters&,
                                                     const std::vector<std::string>&) override {
    return std::vector<Instance>{};
  }
  AwsResult<std::vector<Instance>> runInstances(const RunInstancesRequest&) override {
    return std::vector<Instance>{};
  }
  AwsResult<Vpc> createVpc(const std::string&, const std::vector<TagSpecification>&) override {
    return Vpc{};
  }
  AwsResult<InternetGateway> createInternetGateway(const std::vector<TagSpecification>&) override {
    return InternetGateway{};
  }
  AwsStatus attachInternetGateway(const std::string&, const std::string&) override { return {}; }
};

TakeoverParams params() {
  TakeoverParams p;
  p.instanceId = "i-me";
  p.vpcId = "vpc-me";
  p.availabilityZone = "az-b";
  p.cidrBlock = "124.124.124.0/24";
  p.securityGroupIds = {"sg-1"};
  p.vips = {{"124.124.124.250", "203.0.113.10"}};
  p.deleteEniAttempts = 5;
  return p;
}

TEST(TakeoverSequence, FailoverFromPeerInOtherVpcFollowsLoxilbOrder) {
  ScriptedEc2 ec2;
  NetworkInterface old;
  old.networkInterfaceId = "eni-old";
  old.subnetId = "subnet-old";
  old.attachment = NetworkInterfaceAttachment{"eni-attach-old", "i-peer", 1, "attached"};
  ec2.enis = {old};
  ec2.deleteEniFailures = 2;
  RouteTable rt;
  rt.routeTableId = "rtb-old";
  rt.associations = {{"rtbassoc-old", "subnet-old", false}, {"rtbassoc-main", "", true}};
  ec2.routeTables = {rt};
  Vpc peer;
  peer.vpcId = "vpc-peer";
  peer.cidrBlockAssociations = {{"vpc-cidr-assoc-peer", "124.124.124.0/24", "associated"}};
  ec2.vpcs = {peer};
  int pauses = 0;
  auto r = runTakeoverSequence(ec2, params(), false, [&] { ++pauses; });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(pauses, 2);
  const std::vector<std::string> want = {
      "DetachNetworkInterface eni-attach-old force",
      "DeleteNetworkInterface eni-old",
      "DeleteNetworkInterface eni-old",
      "DeleteNetworkInterface eni-old",
      "DeleteSubnet subnet-old",
      "DisassociateRouteTable rtbassoc-old",
      "DeleteRouteTable rtb-old",
      "DisassociateVpcCidrBlock vpc-cidr-assoc-peer",
      "AssociateVpcCidrBlock vpc-me 124.124.124.0/24",
      "CreateSubnet vpc-me 124.124.124.0/24 az-b",
      "CreateRouteTable vpc-me",
      "AssociateRouteTable rtb-new subnet-new",
      "CreateRoute rtb-new 0.0.0.0/0 igw-1",
      "CreateNetworkInterface subnet-new sg-1 floatlb-eni0",
      "AttachNetworkInterface eni-new i-me 1",
      "ModifyNetworkInterfaceAttribute eni-new false",
      "AssignPrivateIpAddresses eni-new 124.124.124.250 reassign",
      "AssociateAddress eipalloc-1 eni-new 124.124.124.250 reassociate",
  };
  EXPECT_EQ(ec2.calls, want);
  EXPECT_EQ(r->eniId, "eni-new");
  EXPECT_EQ(r->eniPrivateIp, "124.124.124.9");
  EXPECT_EQ(r->eipAssociationIds, std::vector<std::string>{"eipassoc-new"});
}

TEST(TakeoverSequence, GivesUpWhenEniNeverDeletes) {
  ScriptedEc2 ec2;
  NetworkInterface old;
  old.networkInterfaceId = "eni-old";
  old.subnetId = "subnet-old";
  ec2.enis = {old};
  ec2.deleteEniFailures = 100;
  int pauses = 0;
  auto r = runTakeoverSequence(ec2, params(), false, [&] { ++pauses; });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("InvalidNetworkInterface.InUse"), std::string::npos);
  EXPECT_EQ(ec2.calls.size(), 5u);  // deleteEniAttempts, nothing after
  EXPECT_EQ(pauses, 4);             // no pause after the last attempt
}

TEST(TakeoverSequence, BlockInsideOwnVpcCidrIsNotAssociated) {
  ScriptedEc2 ec2;
  Vpc me;
  me.vpcId = "vpc-me";
  me.cidrBlockAssociations = {{"vpc-cidr-assoc-primary", "192.168.0.0/16", "associated"}};
  ec2.vpcs = {me};
  TakeoverParams p = params();
  p.cidrBlock = "192.168.248.0/24";
  p.vips = {{"192.168.248.254", "203.0.113.10"}};
  auto r = runTakeoverSequence(ec2, p, false, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& c : ec2.calls) EXPECT_EQ(c.find("AssociateVpcCidrBlock"), std::string::npos) << c;
  EXPECT_EQ(ec2.calls.at(0), "CreateSubnet vpc-me 192.168.248.0/24 az-b");
}

TEST(TakeoverSequence, DryRunOnlyDescribes) {
  ScriptedEc2 ec2;
  Vpc me;
  me.vpcId = "vpc-me";
  me.cidrBlockAssociations = {{"vpc-cidr-assoc-me", "124.124.124.0/24", "associated"}};
  ec2.vpcs = {me};
  auto r = runTakeoverSequence(ec2, params(), true, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(ec2.calls.empty());
  bool saw_assoc_cidr = false;
  for (const auto& s : r->steps) {
    EXPECT_EQ(s.executed, s.action.rfind("Describe", 0) == 0) << s.action;
    saw_assoc_cidr |= s.action == "AssociateVpcCidrBlock";
  }
  EXPECT_FALSE(saw_assoc_cidr);  // already associated with our VPC
}

}  // namespace
}  // namespace floatlb::cloud::aws
