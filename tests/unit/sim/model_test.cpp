// The vpcsim EC2 model driven through its Query API (handle()), as a client would: error codes,
// async detach with FakeClock, reassignment/reassociation, filters, throttling, and the full loxilb
// multi-AZ takeover sequence (loxilb.md §4.3).
#include "sim/model.h"

#include <gtest/gtest.h>

#include <regex>

#include "sim/topology.h"

namespace floatlb::sim {
namespace {

using namespace std::chrono_literals;
using Kind = RealiseEvent::Kind;

// First <tag>value</tag> in an XML answer (or "" if absent).
std::string xmlValue(const std::string& xml, const std::string& tag, size_t nth = 0) {
  std::regex re("<" + tag + ">([^<]*)</" + tag + ">");
  auto it = std::sregex_iterator(xml.begin(), xml.end(), re);
  for (size_t i = 0; it != std::sregex_iterator(); ++it, ++i) {
    if (i == nth) return (*it)[1];
  }
  return "";
}
size_t xmlCount(const std::string& xml, const std::string& tag) {
  std::regex re("<" + tag + ">");
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(xml.begin(), xml.end(), re), std::sregex_iterator()));
}
bool hasEvent(const ApiResponse& r, Kind k) {
  for (const auto& e : r.events) {
    if (e.kind == k) return true;
  }
  return false;
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelConfig cfg;
    cfg.detach_time = 2s;
    cfg.cidr_assoc_time = 1s;
    model_ = std::make_unique<Ec2Model>(clock_, cfg);
    Topology t;
    t.vpc_cidr = "192.168.0.0/16";
    t.subnets = {{"a", "192.168.218.0/24", "ap-northeast-3a"}, {"b", "192.168.228.0/24", "ap-northeast-3b"}};
    t.instances = {{"lb1", "a", "192.168.218.60"}, {"lb2", "b", "192.168.228.108"}};
    t.eips = {"eip"};
    auto loaded = loadTopology(*model_, t);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    topo_ = loaded.value();
  }

  ApiResponse call(const std::string& action, std::map<std::string, std::string> kv = {}) {
    clock_.advance(1ms);
    return model_->handle(action, Params(std::move(kv)), "req-1");
  }
  static std::string code(const ApiResponse& r) { return r.error_code; }
  std::string vpc() { return topo_.vpc_id; }
  std::string subA() { return topo_.subnets.at("a"); }
  std::string subB() { return topo_.subnets.at("b"); }
  std::string lb1() { return topo_.instances.at("lb1"); }
  std::string lb2() { return topo_.instances.at("lb2"); }
  std::string eipAlloc() { return topo_.eips.at("eip"); }

  std::string createEni(const std::string& subnet, std::map<std::string, std::string> extra = {}) {
    extra["SubnetId"] = subnet;
    auto r = call("CreateNetworkInterface", extra);
    EXPECT_EQ(r.http_status, 200) << r.body;
    return xmlValue(r.body, "networkInterfaceId");
  }

  FakeClock clock_;
  std::unique_ptr<Ec2Model> model_;
  LoadedTopology topo_;
};

TEST_F(ModelTest, ResponsesCarryTheEc2NamespaceAndRequestId) {
  auto r = call("DescribeAddresses");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_NE(r.body.find("<DescribeAddressesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"),
            std::string::npos);
  EXPECT_EQ(xmlValue(r.body, "requestId"), "req-1");
  auto e = call("DescribeSubnets", {{"SubnetId.1", "subnet-nope"}});
  EXPECT_EQ(e.http_status, 400);
  EXPECT_NE(e.body.find("<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code>"), std::string::npos);
  EXPECT_EQ(xmlValue(e.body, "RequestID"), "req-1");
  EXPECT_EQ(code(call("FlyToTheMoon")), "InvalidAction");
  EXPECT_EQ(code(call("")), "MissingAction");
  EXPECT_EQ(code(call("DescribeSubnets", {{"Filter.1.Name", "colour"}, {"Filter.1.Value.1", "x"}})),
            "InvalidParameterValue");
}

TEST_F(ModelTest, CreateSubnetValidatesRangeConflictAndZone) {
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "10.0.0.0/24"}})),
            "InvalidSubnet.Range");
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "192.168.218.128/25"}})),
            "InvalidSubnet.Conflict");
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "192.168.1.0/29"}})),
            "InvalidSubnet.Range");
  EXPECT_EQ(code(call("CreateSubnet",
                      {{"VpcId", vpc()}, {"CidrBlock", "192.168.1.0/24"}, {"AvailabilityZone", "mars-1a"}})),
            "InvalidParameterValue");
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", "vpc-nope"}, {"CidrBlock", "192.168.1.0/24"}})),
            "InvalidVpcID.NotFound");
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", vpc()}})), "MissingParameter");
  auto ok = call("CreateSubnet", {{"VpcId", vpc()},
                                  {"CidrBlock", "192.168.248.0/24"},
                                  {"AvailabilityZone", "ap-northeast-3b"},
                                  {"TagSpecification.1.ResourceType", "subnet"},
                                  {"TagSpecification.1.Tag.1.Key", "loxiType"},
                                  {"TagSpecification.1.Tag.1.Value", "loxilb-subnet0"}});
  ASSERT_EQ(ok.http_status, 200) << ok.body;
  EXPECT_EQ(xmlValue(ok.body, "availabilityZone"), "ap-northeast-3b");
  EXPECT_EQ(xmlValue(ok.body, "availableIpAddressCount"), "251");
  ASSERT_TRUE(hasEvent(ok, Kind::kSubnetCreated));
  auto found =
      call("DescribeSubnets", {{"Filter.1.Name", "tag:loxiType"}, {"Filter.1.Value.1", "loxilb-subnet*"}});
  EXPECT_EQ(xmlCount(found.body, "subnetId"), 1u);
  EXPECT_EQ(xmlValue(found.body, "cidrBlock"), "192.168.248.0/24");
}

TEST_F(ModelTest, DeleteSubnetWithEnisIsDependencyViolation) {
  std::string eni = createEni(subA());
  EXPECT_EQ(code(call("DeleteSubnet", {{"SubnetId", subA()}})), "DependencyViolation");
  EXPECT_EQ(code(call("DeleteSubnet", {{"SubnetId", "subnet-0000"}})), "InvalidSubnetID.NotFound");
  auto sub = call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "192.168.5.0/24"}});
  std::string id = xmlValue(sub.body, "subnetId");
  auto del = call("DeleteSubnet", {{"SubnetId", id}});
  EXPECT_EQ(del.http_status, 200);
  EXPECT_TRUE(hasEvent(del, Kind::kSubnetDeleted));
  EXPECT_EQ(code(call("DescribeSubnets", {{"SubnetId.1", id}})), "InvalidSubnetID.NotFound");
}

TEST_F(ModelTest, SecondaryVpcCidrIsAsynchronous) {
  EXPECT_EQ(code(call("AssociateVpcCidrBlock", {{"VpcId", vpc()}, {"CidrBlock", "192.168.248.0/24"}})),
            "VpcCidrConflict");  // inside the primary CIDR
  auto r = call("AssociateVpcCidrBlock", {{"VpcId", vpc()}, {"CidrBlock", "10.10.0.0/24"}});
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(xmlValue(r.body, "state"), "associating");
  std::string assoc = xmlValue(r.body, "associationId");
  EXPECT_EQ(code(call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "10.10.0.0/24"}})),
            "InvalidSubnet.Range");
  clock_.advance(1s);
  auto d = call("DescribeVpcs", {{"Filter.1.Name", "cidr-block-association.cidr-block"},
                                 {"Filter.1.Value.1", "10.10.0.0/24"}});
  EXPECT_EQ(xmlCount(d.body, "vpcId"), 1u);
  EXPECT_NE(d.body.find("<cidrBlock>10.10.0.0/24</cidrBlock><associationId>" + assoc +
                        "</associationId><cidrBlockState><state>associated</state>"),
            std::string::npos);
  auto sub = call("CreateSubnet", {{"VpcId", vpc()}, {"CidrBlock", "10.10.0.0/24"}});
  ASSERT_EQ(sub.http_status, 200);
  EXPECT_EQ(code(call("DisassociateVpcCidrBlock", {{"AssociationId", assoc}})), "DependencyViolation");
  call("DeleteSubnet", {{"SubnetId", xmlValue(sub.body, "subnetId")}});
  auto dis = call("DisassociateVpcCidrBlock", {{"AssociationId", assoc}});
  EXPECT_EQ(xmlValue(dis.body, "state"), "disassociating");
  clock_.advance(1s);
  auto gone = call("DescribeVpcs", {{"Filter.1.Name", "cidr-block-association.cidr-block"},
                                    {"Filter.1.Value.1", "10.10.0.0/24"}});
  EXPECT_EQ(xmlCount(gone.body, "vpcId"), 0u);
  std::string primary = xmlValue(call("DescribeVpcs").body, "associationId");
  EXPECT_EQ(code(call("DisassociateVpcCidrBlock", {{"AssociationId", primary}})), "OperationNotPermitted");
  EXPECT_EQ(code(call("DisassociateVpcCidrBlock", {{"AssociationId", "vpc-cidr-assoc-x"}})),
            "InvalidVpcCidrBlockAssociationID.NotFound");
}

TEST_F(ModelTest, RouteTablesAssociationsAndRoutes) {
  auto rt = call("CreateRouteTable", {{"VpcId", vpc()}});
  std::string rtb = xmlValue(rt.body, "routeTableId");
  ASSERT_FALSE(rtb.empty());
  auto a = call("AssociateRouteTable", {{"RouteTableId", rtb}, {"SubnetId", subA()}});
  std::string assoc = xmlValue(a.body, "associationId");
  ASSERT_FALSE(assoc.empty()) << a.body;
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", rtb}, {"SubnetId", subA()}})),
            "Resource.AlreadyAssociated");
  EXPECT_EQ(code(call("DeleteRouteTable", {{"RouteTableId", rtb}})), "DependencyViolation");
  EXPECT_EQ(
      code(call("CreateRoute",
                {{"RouteTableId", rtb}, {"DestinationCidrBlock", "0.0.0.0/0"}, {"GatewayId", "igw-x"}})),
      "InvalidGatewayID.NotFound");
  auto igws =
      call("DescribeInternetGateways", {{"Filter.1.Name", "attachment.vpc-id"}, {"Filter.1.Value.1", vpc()}});
  std::string igw = xmlValue(igws.body, "internetGatewayId");
  EXPECT_EQ(igw, topo_.igw_id);
  EXPECT_EQ(
      call("CreateRoute", {{"RouteTableId", rtb}, {"DestinationCidrBlock", "0.0.0.0/0"}, {"GatewayId", igw}})
          .http_status,
      200);
  EXPECT_EQ(code(call("CreateRoute",
                      {{"RouteTableId", rtb}, {"DestinationCidrBlock", "0.0.0.0/0"}, {"GatewayId", igw}})),
            "RouteAlreadyExists");
  auto d =
      call("DescribeRouteTables", {{"Filter.1.Name", "association.subnet-id"}, {"Filter.1.Value.1", subA()}});
  EXPECT_EQ(xmlValue(d.body, "routeTableId"), rtb);
  EXPECT_EQ(call("DisassociateRouteTable", {{"AssociationId", assoc}}).http_status, 200);
  EXPECT_EQ(code(call("DisassociateRouteTable", {{"AssociationId", assoc}})),
            "InvalidAssociationID.NotFound");
  EXPECT_EQ(call("DeleteRouteTable", {{"RouteTableId", rtb}}).http_status, 200);
  EXPECT_EQ(code(call("DeleteRouteTable", {{"RouteTableId", rtb}})), "InvalidRouteTableID.NotFound");
}

TEST_F(ModelTest, CreateNetworkInterfaceWithSecondaryIps) {
  // PrivateIpAddresses.N without Primary=true: EC2 picks the primary, the listed ones are secondaries.
  std::string eni = createEni(subA(), {{"PrivateIpAddresses.1.PrivateIpAddress", "192.168.218.4"},
                                       {"PrivateIpAddresses.1.Primary", "false"},
                                       {"PrivateIpAddresses.2.PrivateIpAddress", "192.168.218.200"}});
  ASSERT_FALSE(eni.empty());
  const auto& ips = model_->eni(eni)->ips;
  ASSERT_EQ(ips.size(), 3u);
  EXPECT_EQ(ips[0].str(), "192.168.218.5");  // .4 was asked for as a secondary: the allocator skips it
  EXPECT_EQ(ips[1].str(), "192.168.218.4");
  EXPECT_EQ(ips[2].str(), "192.168.218.200");
  // Secondary already in use, outside the subnet, listed twice: the call fails and creates nothing.
  auto eni_count = [&] {
    const std::string body = call("DescribeNetworkInterfaces").body;
    size_t n = 0;
    for (size_t at = body.find("<networkInterfaceId>"); at != std::string::npos;
         at = body.find("<networkInterfaceId>", at + 1))
      ++n;
    return n;
  };
  const size_t before = eni_count();
  EXPECT_EQ(code(call("CreateNetworkInterface",
                      {{"SubnetId", subA()}, {"PrivateIpAddresses.1.PrivateIpAddress", "192.168.218.200"}})),
            "InvalidIPAddress.InUse");
  EXPECT_EQ(code(call("CreateNetworkInterface",
                      {{"SubnetId", subA()}, {"PrivateIpAddresses.1.PrivateIpAddress", "192.168.228.9"}})),
            "InvalidParameterValue");
  EXPECT_EQ(
      code(call("CreateNetworkInterface", {{"SubnetId", subA()},
                                           {"PrivateIpAddresses.1.PrivateIpAddress", "192.168.218.77"},
                                           {"PrivateIpAddresses.2.PrivateIpAddress", "192.168.218.77"}})),
      "InvalidParameterValue");
  EXPECT_EQ(eni_count(), before);
  // Primary=true names the primary.
  std::string p = createEni(subA(), {{"PrivateIpAddresses.1.PrivateIpAddress", "192.168.218.90"},
                                     {"PrivateIpAddresses.1.Primary", "true"}});
  EXPECT_EQ(model_->eni(p)->ips.front().str(), "192.168.218.90");
}

TEST_F(ModelTest, EniAttachRulesAndAsynchronousDetach) {
  std::string sg = model_->eni(model_->instance(lb1())->primary_eni)->groups.front();
  std::string eni = createEni(subA(), {{"Description", "loxilb-eni"},
                                       {"SecurityGroupId.1", sg},
                                       {"TagSpecification.1.ResourceType", "network-interface"},
                                       {"TagSpecification.1.Tag.1.Key", "loxiType"},
                                       {"TagSpecification.1.Tag.1.Value", "loxilb-eni0"}});
  ASSERT_FALSE(eni.empty());
  EXPECT_EQ(model_->eni(eni)->ips.front().str(), "192.168.218.4");  // first non-reserved address
  EXPECT_EQ(code(call("CreateNetworkInterface", {{"SubnetId", subA()}, {"SecurityGroupId.1", "sg-nope"}})),
            "InvalidGroup.NotFound");
  EXPECT_EQ(
      code(call("CreateNetworkInterface", {{"SubnetId", subA()}, {"PrivateIpAddress", "192.168.218.60"}})),
      "InvalidIPAddress.InUse");
  EXPECT_EQ(code(call("AttachNetworkInterface",
                      {{"NetworkInterfaceId", eni}, {"InstanceId", lb2()}, {"DeviceIndex", "1"}})),
            "InvalidParameterCombination");  // cross-AZ
  EXPECT_EQ(code(call("AttachNetworkInterface",
                      {{"NetworkInterfaceId", eni}, {"InstanceId", lb1()}, {"DeviceIndex", "0"}})),
            "InvalidParameterValue");  // device index in use
  EXPECT_EQ(code(call("AttachNetworkInterface", {{"NetworkInterfaceId", eni}, {"InstanceId", lb1()}})),
            "MissingParameter");
  EXPECT_EQ(code(call("AttachNetworkInterface",
                      {{"NetworkInterfaceId", "eni-0nope"}, {"InstanceId", lb1()}, {"DeviceIndex", "1"}})),
            "InvalidNetworkInterfaceID.NotFound");
  auto at = call("AttachNetworkInterface",
                 {{"NetworkInterfaceId", eni}, {"InstanceId", lb1()}, {"DeviceIndex", "1"}});
  ASSERT_EQ(at.http_status, 200) << at.body;
  std::string attach = xmlValue(at.body, "attachmentId");
  ASSERT_EQ(at.events.size(), 1u);
  EXPECT_EQ(at.events[0].kind, Kind::kEniAttached);
  EXPECT_EQ(at.events[0].device_index, 1);
  EXPECT_EQ(at.events[0].instance_name, "lb1");
  EXPECT_EQ(at.events[0].mac, model_->eni(eni)->mac);
  EXPECT_EQ(code(call("AttachNetworkInterface",
                      {{"NetworkInterfaceId", eni}, {"InstanceId", lb1()}, {"DeviceIndex", "2"}})),
            "InvalidNetworkInterface.InUse");
  EXPECT_EQ(code(call("DeleteNetworkInterface", {{"NetworkInterfaceId", eni}})),
            "InvalidNetworkInterface.InUse");
  auto by_tag = call("DescribeNetworkInterfaces",
                     {{"Filter.1.Name", "tag:loxiType"}, {"Filter.1.Value.1", "loxilb-eni0"}});
  EXPECT_EQ(xmlValue(by_tag.body, "networkInterfaceId"), eni);
  EXPECT_EQ(xmlValue(by_tag.body, "status", 0), "in-use");
  auto by_inst = call("DescribeNetworkInterfaces",
                      {{"Filter.1.Name", "attachment.instance-id"}, {"Filter.1.Value.1", lb1()}});
  EXPECT_EQ(xmlCount(by_inst.body, "networkInterfaceId"), 2u);

  std::string primary_attach = model_->eni(model_->instance(lb1())->primary_eni)->attachment->id;
  EXPECT_EQ(code(call("DetachNetworkInterface", {{"AttachmentId", primary_attach}})),
            "OperationNotPermitted");
  EXPECT_EQ(code(call("DetachNetworkInterface", {{"AttachmentId", "eni-attach-0nope"}})),
            "InvalidAttachmentID.NotFound");
  ASSERT_EQ(call("DetachNetworkInterface", {{"AttachmentId", attach}, {"Force", "true"}}).http_status, 200);
  EXPECT_EQ(model_->eni(eni)->attachment->status, "detaching");
  EXPECT_EQ(code(call("DeleteNetworkInterface", {{"NetworkInterfaceId", eni}})),
            "InvalidNetworkInterface.InUse");
  clock_.advance(1900ms);
  auto still = call("DescribeNetworkInterfaces", {{"NetworkInterfaceId.1", eni}});
  EXPECT_NE(still.body.find("<status>detaching</status>"), std::string::npos);
  EXPECT_FALSE(hasEvent(still, Kind::kEniDetached));
  clock_.advance(200ms);
  auto done = call("DescribeNetworkInterfaces", {{"NetworkInterfaceId.1", eni}});
  EXPECT_TRUE(hasEvent(done, Kind::kEniDetached));
  EXPECT_EQ(xmlValue(done.body, "status"), "available");
  EXPECT_EQ(call("DeleteNetworkInterface", {{"NetworkInterfaceId", eni}}).http_status, 200);
  EXPECT_EQ(code(call("DescribeNetworkInterfaces", {{"NetworkInterfaceId.1", eni}})),
            "InvalidNetworkInterfaceID.NotFound");
  EXPECT_EQ(code(call("DeleteNetworkInterface", {{"NetworkInterfaceId", "bogus"}})),
            "InvalidNetworkInterfaceId.Malformed");
}

TEST_F(ModelTest, PrivateIpAssignmentAndReassignment) {
  std::string e1 = model_->instance(lb1())->primary_eni;
  std::string e2 = createEni(subA());
  EXPECT_EQ(code(call("AssignPrivateIpAddresses",
                      {{"NetworkInterfaceId", e1}, {"PrivateIpAddress.1", "192.168.228.50"}})),
            "InvalidParameterValue");  // outside the ENI's subnet
  EXPECT_EQ(code(call("AssignPrivateIpAddresses", {{"NetworkInterfaceId", e1}})), "MissingParameter");
  auto ok = call("AssignPrivateIpAddresses",
                 {{"NetworkInterfaceId", e1}, {"PrivateIpAddress.1", "192.168.218.200"}});
  ASSERT_EQ(ok.http_status, 200) << ok.body;
  ASSERT_TRUE(hasEvent(ok, Kind::kPrivateIpAssigned));
  EXPECT_TRUE(ok.events.back().attached);
  EXPECT_EQ(code(call("AssignPrivateIpAddresses",
                      {{"NetworkInterfaceId", e2}, {"PrivateIpAddress.1", "192.168.218.200"}})),
            "InvalidParameterValue");  // in use elsewhere, no AllowReassignment
  auto moved = call(
      "AssignPrivateIpAddresses",
      {{"NetworkInterfaceId", e2}, {"PrivateIpAddress.1", "192.168.218.200"}, {"AllowReassignment", "true"}});
  ASSERT_EQ(moved.http_status, 200);
  ASSERT_EQ(moved.events.size(), 2u);
  EXPECT_EQ(moved.events[0].kind, Kind::kPrivateIpUnassigned);
  EXPECT_EQ(moved.events[0].eni_id, e1);
  EXPECT_EQ(moved.events[1].kind, Kind::kPrivateIpAssigned);
  EXPECT_FALSE(moved.events[1].attached);  // e2 is not attached: nothing to route to
  EXPECT_EQ(model_->eni(e1)->ips.size(), 1u);
  EXPECT_EQ(code(call("AssignPrivateIpAddresses", {{"NetworkInterfaceId", e2},
                                                   {"PrivateIpAddress.1", "192.168.218.60"},
                                                   {"AllowReassignment", "true"}})),
            "InvalidParameterValue");  // a primary address never moves
  EXPECT_EQ(code(call("AssignPrivateIpAddresses",
                      {{"NetworkInterfaceId", e2}, {"SecondaryPrivateIpAddressCount", "9"}})),
            "PrivateIpAddressLimitExceeded");
  EXPECT_EQ(code(call("UnassignPrivateIpAddresses",
                      {{"NetworkInterfaceId", e1}, {"PrivateIpAddress.1", "192.168.218.200"}})),
            "InvalidParameterValue");
  auto un = call("UnassignPrivateIpAddresses",
                 {{"NetworkInterfaceId", e2}, {"PrivateIpAddress.1", "192.168.218.200"}});
  EXPECT_EQ(un.http_status, 200);
  EXPECT_TRUE(hasEvent(un, Kind::kPrivateIpUnassigned));
}

TEST_F(ModelTest, ElasticIpAssociationAndReassociation) {
  std::string e1 = model_->instance(lb1())->primary_eni;
  std::string e2 = model_->instance(lb2())->primary_eni;
  EXPECT_EQ(code(call("AssociateAddress", {{"AllocationId", "eipalloc-bad"}, {"NetworkInterfaceId", e1}})),
            "InvalidAllocationID.NotFound");
  auto a1 = call(
      "AssociateAddress",
      {{"AllocationId", eipAlloc()}, {"NetworkInterfaceId", e1}, {"PrivateIpAddress", "192.168.218.60"}});
  ASSERT_EQ(a1.http_status, 200) << a1.body;
  std::string assoc1 = xmlValue(a1.body, "associationId");
  ASSERT_TRUE(hasEvent(a1, Kind::kEipAssociated));
  EXPECT_EQ(code(call("AssociateAddress", {{"AllocationId", eipAlloc()}, {"NetworkInterfaceId", e2}})),
            "Resource.AlreadyAssociated");
  auto a2 = call("AssociateAddress",
                 {{"AllocationId", eipAlloc()}, {"NetworkInterfaceId", e2}, {"AllowReassociation", "true"}});
  ASSERT_EQ(a2.http_status, 200);
  ASSERT_EQ(a2.events.size(), 2u);
  EXPECT_EQ(a2.events[0].kind, Kind::kEipDisassociated);
  EXPECT_EQ(a2.events[0].ip.str(), "192.168.218.60");
  EXPECT_EQ(a2.events[1].kind, Kind::kEipAssociated);
  EXPECT_EQ(a2.events[1].ip.str(), "192.168.228.108");
  std::string pub = model_->address(eipAlloc())->public_ip.str();
  auto d = call("DescribeAddresses", {{"Filter.1.Name", "public-ip"}, {"Filter.1.Value.1", pub}});
  EXPECT_EQ(xmlValue(d.body, "networkInterfaceId"), e2);
  EXPECT_EQ(xmlValue(d.body, "instanceId"), lb2());
  EXPECT_EQ(code(call("DisassociateAddress", {{"AssociationId", assoc1}})), "InvalidAssociationID.NotFound");
  EXPECT_EQ(call("DisassociateAddress", {{"AssociationId", xmlValue(a2.body, "associationId")}}).http_status,
            200);
  EXPECT_EQ(xmlValue(call("DescribeAddresses", {{"PublicIp.1", pub}}).body, "associationId"), "");
  EXPECT_EQ(code(call("DescribeAddresses", {{"PublicIp.1", "198.18.9.9"}})), "InvalidAddress.NotFound");
  EXPECT_EQ(code(call("DescribeAddresses", {{"AllocationId.1", "eipalloc-x"}})),
            "InvalidAllocationID.NotFound");
}

TEST_F(ModelTest, ElasticIpFollowsAReassignedPrivateIp) {
  std::string e1 = model_->instance(lb1())->primary_eni;
  std::string e2 = createEni(subA());
  call("AssignPrivateIpAddresses", {{"NetworkInterfaceId", e1}, {"PrivateIpAddress.1", "192.168.218.200"}});
  call("AssociateAddress",
       {{"AllocationId", eipAlloc()}, {"NetworkInterfaceId", e1}, {"PrivateIpAddress", "192.168.218.200"}});
  call(
      "AssignPrivateIpAddresses",
      {{"NetworkInterfaceId", e2}, {"PrivateIpAddress.1", "192.168.218.200"}, {"AllowReassignment", "true"}});
  EXPECT_EQ(model_->address(eipAlloc())->eni_id, e2);
  EXPECT_EQ(model_->address(eipAlloc())->private_ip.str(), "192.168.218.200");
}

TEST_F(ModelTest, TagsAndTagFilters) {
  EXPECT_EQ(
      call("CreateTags",
           {{"ResourceId.1", subA()}, {"ResourceId.2", lb1()}, {"Tag.1.Key", "team"}, {"Tag.1.Value", "lb"}})
          .http_status,
      200);
  EXPECT_EQ(
      code(call("CreateTags", {{"ResourceId.1", "subnet-0nope"}, {"Tag.1.Key", "k"}, {"Tag.1.Value", "v"}})),
      "InvalidSubnetID.NotFound");
  auto s = call("DescribeSubnets", {{"Filter.1.Name", "tag:team"}, {"Filter.1.Value.1", "lb"}});
  EXPECT_EQ(xmlCount(s.body, "subnetId"), 1u);
  auto i = call("DescribeInstances", {{"Filter.1.Name", "tag:team"},
                                      {"Filter.1.Value.1", "lb"},
                                      {"Filter.2.Name", "availability-zone"},
                                      {"Filter.2.Value.1", "ap-northeast-3a"}});
  EXPECT_EQ(xmlValue(i.body, "instanceId"), lb1());
  auto none = call("DescribeInstances", {{"Filter.1.Name", "tag:team"},
                                         {"Filter.1.Value.1", "lb"},
                                         {"Filter.2.Name", "availability-zone"},
                                         {"Filter.2.Value.1", "ap-northeast-3b"}});
  EXPECT_EQ(xmlCount(none.body, "instanceId"), 0u);
}

TEST_F(ModelTest, ThrottledCallsGet503RequestLimitExceeded) {
  model_->throttler().configure("mutating", BucketSpec{1, 0});
  EXPECT_EQ(call("AllocateAddress").http_status, 200);
  auto r = call("AllocateAddress");
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(code(r), "RequestLimitExceeded");
  model_->faults().add(FaultRule{"DescribeVpcs", "InternalError", "injected", 500, 1, 1.0, 250});
  auto f = call("DescribeVpcs");
  EXPECT_EQ(f.http_status, 500);
  EXPECT_EQ(f.latency_ms, 100 + 250);
  EXPECT_EQ(call("DescribeVpcs").http_status, 200);
}

// loxilb.md §4.3: lb1 (AZ-a) was master with the VIP subnet, ENI, VIP and EIP; lb2 (AZ-b) takes over.
TEST_F(ModelTest, FullMultiAzTakeoverSequence) {
  const std::string kBlock = "192.168.248.0/24", kVip = "192.168.248.254";
  auto tagspec = [](const std::string& type, const std::string& value) {
    return std::map<std::string, std::string>{{"TagSpecification.1.ResourceType", type},
                                              {"TagSpecification.1.Tag.1.Key", "loxiType"},
                                              {"TagSpecification.1.Tag.1.Value", value}};
  };
  auto with = [](std::map<std::string, std::string> a, const std::map<std::string, std::string>& b) {
    a.insert(b.begin(), b.end());
    return a;
  };
  // --- the old master's state (as lb1 built it) ---
  auto s = call("CreateSubnet",
                with({{"VpcId", vpc()}, {"CidrBlock", kBlock}, {"AvailabilityZone", "ap-northeast-3a"}},
                     tagspec("subnet", "loxilb-subnet0")));
  std::string old_subnet = xmlValue(s.body, "subnetId");
  auto rt = call("CreateRouteTable", with({{"VpcId", vpc()}}, tagspec("route-table", "loxilb-routetable0")));
  call("AssociateRouteTable",
       {{"RouteTableId", xmlValue(rt.body, "routeTableId")}, {"SubnetId", old_subnet}});
  std::string old_eni = createEni(old_subnet, tagspec("network-interface", "loxilb-eni0"));
  call("AttachNetworkInterface",
       {{"NetworkInterfaceId", old_eni}, {"InstanceId", lb1()}, {"DeviceIndex", "1"}});
  call("AssignPrivateIpAddresses",
       {{"NetworkInterfaceId", old_eni}, {"PrivateIpAddress.1", kVip}, {"AllowReassignment", "true"}});
  call("AssociateAddress", {{"AllocationId", eipAlloc()},
                            {"NetworkInterfaceId", old_eni},
                            {"PrivateIpAddress", kVip},
                            {"AllowReassociation", "true"}});

  // --- lb2 becomes master ---
  std::vector<ApiResponse> log;
  auto step = [&](const std::string& a, std::map<std::string, std::string> kv) {
    log.push_back(call(a, std::move(kv)));
    return log.back();
  };
  auto enis = step("DescribeNetworkInterfaces",
                   {{"Filter.1.Name", "tag:loxiType"}, {"Filter.1.Value.1", "loxilb-eni0"}});
  ASSERT_EQ(xmlValue(enis.body, "networkInterfaceId"), old_eni);
  std::string stale_subnet = xmlValue(enis.body, "subnetId");
  ASSERT_EQ(step("DetachNetworkInterface",
                 {{"AttachmentId", xmlValue(enis.body, "attachmentId")}, {"Force", "true"}})
                .http_status,
            200);
  int tries = 0;  // loxilb: up to 20 tries, 2 s apart, while the detach completes
  for (; tries < 20; ++tries) {
    if (step("DeleteNetworkInterface", {{"NetworkInterfaceId", old_eni}}).http_status == 200) break;
    EXPECT_EQ(log.back().error_code, "InvalidNetworkInterface.InUse");
    clock_.advance(500ms);
  }
  EXPECT_GE(tries, 3);  // detach takes 2 s: the first attempts must fail
  ASSERT_LT(tries, 20);
  ASSERT_EQ(step("DeleteSubnet", {{"SubnetId", stale_subnet}}).http_status, 200);
  auto rts = step("DescribeRouteTables",
                  {{"Filter.1.Name", "tag:loxiType"}, {"Filter.1.Value.1", "loxilb-routetable0"}});
  std::string old_rtb = xmlValue(rts.body, "routeTableId");
  for (size_t n = 0; n < xmlCount(rts.body, "routeTableAssociationId"); ++n) {
    step("DisassociateRouteTable", {{"AssociationId", xmlValue(rts.body, "routeTableAssociationId", n)}});
  }
  ASSERT_EQ(step("DeleteRouteTable", {{"RouteTableId", old_rtb}}).http_status, 200);
  auto vpcs = step("DescribeVpcs",
                   {{"Filter.1.Name", "cidr-block-association.cidr-block"}, {"Filter.1.Value.1", kBlock}});
  EXPECT_EQ(xmlCount(vpcs.body, "vpcId"),
            0u);  // the block lies inside the primary CIDR: no association needed
  auto ns = step("CreateSubnet",
                 with({{"VpcId", vpc()}, {"CidrBlock", kBlock}, {"AvailabilityZone", "ap-northeast-3b"}},
                      tagspec("subnet", "loxilb-subnet0")));
  ASSERT_EQ(ns.http_status, 200) << ns.body;
  std::string new_subnet = xmlValue(ns.body, "subnetId");
  auto nrt = step("CreateRouteTable", with({{"VpcId", vpc()}}, tagspec("route-table", "loxilb-routetable0")));
  std::string new_rtb = xmlValue(nrt.body, "routeTableId");
  ASSERT_EQ(step("AssociateRouteTable", {{"RouteTableId", new_rtb}, {"SubnetId", new_subnet}}).http_status,
            200);
  auto igw =
      step("DescribeInternetGateways", {{"Filter.1.Name", "attachment.vpc-id"}, {"Filter.1.Value.1", vpc()}});
  ASSERT_EQ(step("CreateRoute", {{"RouteTableId", new_rtb},
                                 {"DestinationCidrBlock", "0.0.0.0/0"},
                                 {"GatewayId", xmlValue(igw.body, "internetGatewayId")}})
                .http_status,
            200);
  std::string sg = model_->eni(model_->instance(lb2())->primary_eni)->groups.front();
  auto ce = step("CreateNetworkInterface",
                 with({{"SubnetId", new_subnet}, {"Description", "loxilb-eni"}, {"SecurityGroupId.1", sg}},
                      tagspec("network-interface", "loxilb-eni0")));
  std::string new_eni = xmlValue(ce.body, "networkInterfaceId");
  ASSERT_FALSE(new_eni.empty()) << ce.body;
  auto at = step("AttachNetworkInterface",
                 {{"NetworkInterfaceId", new_eni}, {"InstanceId", lb2()}, {"DeviceIndex", "1"}});
  ASSERT_EQ(at.http_status, 200) << at.body;
  ASSERT_EQ(step("ModifyNetworkInterfaceAttribute",
                 {{"NetworkInterfaceId", new_eni}, {"SourceDestCheck.Value", "false"}})
                .http_status,
            200);
  ASSERT_EQ(
      step("AssignPrivateIpAddresses",
           {{"NetworkInterfaceId", new_eni}, {"PrivateIpAddress.1", kVip}, {"AllowReassignment", "true"}})
          .http_status,
      200);
  std::string pub = model_->address(eipAlloc())->public_ip.str();
  auto addr = step("DescribeAddresses", {{"Filter.1.Name", "public-ip"}, {"Filter.1.Value.1", pub}});
  EXPECT_EQ(xmlValue(addr.body, "associationId"), "");  // went away with the old ENI
  auto as = step("AssociateAddress", {{"AllocationId", xmlValue(addr.body, "allocationId")},
                                      {"NetworkInterfaceId", new_eni},
                                      {"PrivateIpAddress", kVip},
                                      {"AllowReassociation", "true"}});
  ASSERT_EQ(as.http_status, 200) << as.body;

  // Final state: the EIP maps to the VIP on lb2's new ENI in AZ-b; events drive the realiser.
  const ElasticIp* eip = model_->address(eipAlloc());
  EXPECT_EQ(eip->eni_id, new_eni);
  EXPECT_EQ(eip->private_ip.str(), kVip);
  EXPECT_EQ(model_->eni(new_eni)->az, "ap-northeast-3b");
  EXPECT_FALSE(model_->eni(new_eni)->source_dest_check);
  EXPECT_EQ(model_->instanceByPrivateIp(Ip4::parse(kVip).value())->id, lb2());
  std::vector<Kind> kinds;
  for (const auto& r : log) {
    for (const auto& e : r.events) kinds.push_back(e.kind);
  }
  std::vector<Kind> want = {Kind::kEniDetached,   Kind::kEipDisassociated, Kind::kSubnetDeleted,
                            Kind::kSubnetCreated, Kind::kEniAttached,      Kind::kPrivateIpAssigned,
                            Kind::kEipAssociated};
  EXPECT_EQ(kinds, want);
}

}  // namespace
}  // namespace floatlb::sim
