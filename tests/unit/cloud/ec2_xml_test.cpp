#include "cloud/aws/ec2_xml.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

using testing::readGolden;

TEST(Ec2Xml, DescribeNetworkInterfaces) {
  auto r = parseDescribeNetworkInterfaces(readGolden("xml/describe_network_interfaces.xml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->nextToken, "token-page-2");
  const NetworkInterface& e = r->items[0];
  EXPECT_EQ(e.networkInterfaceId, "eni-0a1b2c3d4e5f60001");
  EXPECT_EQ(e.subnetId, "subnet-0aaa000000000001");
  EXPECT_EQ(e.vpcId, "vpc-0bbb000000000001");
  EXPECT_EQ(e.availabilityZone, "ap-northeast-3a");
  EXPECT_EQ(e.status, "in-use");
  EXPECT_EQ(e.macAddress, "06:1a:2b:3c:4d:5e");
  EXPECT_FALSE(e.sourceDestCheck);
  EXPECT_EQ(e.publicIp, "198.18.100.10");  // routed mode: gateway-table targets need one
  EXPECT_EQ(r->items[1].publicIp, "");
  EXPECT_EQ(e.groupIds, (std::vector<std::string>{"sg-0123456789abcdef0", "sg-0fedcba9876543210"}));
  EXPECT_EQ(e.privateIpAddresses, (std::vector<std::string>{"124.124.124.10", "124.124.124.250"}));
  ASSERT_TRUE(e.attachment.has_value());
  EXPECT_EQ(e.attachment->attachmentId, "eni-attach-0f00000000000001");
  EXPECT_EQ(e.attachment->instanceId, "i-0123456789abcdef0");
  EXPECT_EQ(e.attachment->deviceIndex, 1);
  EXPECT_EQ(findTag(e.tags, "floatlbType").value_or(""), "floatlb-eni0");
  const NetworkInterface& f = r->items[1];
  EXPECT_FALSE(f.attachment.has_value());
  EXPECT_TRUE(f.sourceDestCheck);
  EXPECT_EQ(f.status, "available");
  EXPECT_TRUE(f.tags.empty());
}

TEST(Ec2Xml, DescribeAddresses) {
  auto r = parseDescribeAddresses(readGolden("xml/describe_addresses.xml"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->items.size(), 2u);
  const Address& a = r->items[0];
  EXPECT_EQ(a.publicIp, "203.0.113.10");
  EXPECT_EQ(a.allocationId, "eipalloc-08229861");
  EXPECT_EQ(a.associationId, "eipassoc-f0229899");
  EXPECT_EQ(a.networkInterfaceId, "eni-ef229886");
  EXPECT_EQ(a.privateIpAddress, "10.0.1.10");
  EXPECT_EQ(a.instanceId, "i-0598c7d356eba48d7");
  EXPECT_EQ(a.domain, "vpc");
  EXPECT_EQ(a.tags, (Tags{{"Name", "lb-vip"}}));
  EXPECT_TRUE(r->items[1].associationId.empty());
  EXPECT_TRUE(r->nextToken.empty());
}

TEST(Ec2Xml, SubnetsRouteTablesVpcsIgws) {
  auto s = parseDescribeSubnets(readGolden("xml/describe_subnets.xml"));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->items.size(), 1u);
  EXPECT_EQ(s->items[0].cidrBlock, "124.124.124.0/24");
  EXPECT_EQ(s->items[0].availabilityZone, "ap-northeast-3b");
  EXPECT_EQ(s->items[0].state, "available");

  auto rt = parseDescribeRouteTables(readGolden("xml/describe_route_tables.xml"));
  ASSERT_TRUE(rt.ok());
  ASSERT_EQ(rt->items.size(), 1u);
  const RouteTable& t = rt->items[0];
  EXPECT_EQ(t.routeTableId, "rtb-13ad487a");
  ASSERT_EQ(t.associations.size(), 2u);
  EXPECT_EQ(t.associations[0].associationId, "rtbassoc-12ad487b");
  EXPECT_EQ(t.associations[0].subnetId, "subnet-9d4a7b6c");
  EXPECT_FALSE(t.associations[0].main);
  EXPECT_TRUE(t.associations[1].main);
  EXPECT_TRUE(t.associations[1].subnetId.empty());
  ASSERT_EQ(t.routes.size(), 2u);
  EXPECT_EQ(t.routes[1].destinationCidrBlock, "0.0.0.0/0");
  EXPECT_EQ(t.routes[1].gatewayId, "igw-0abc");

  auto v = parseDescribeVpcs(readGolden("xml/describe_vpcs.xml"));
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->items.size(), 1u);
  ASSERT_EQ(v->items[0].cidrBlockAssociations.size(), 2u);
  EXPECT_EQ(v->items[0].cidrBlockAssociations[1].cidrBlock, "124.124.124.0/24");
  EXPECT_EQ(v->items[0].cidrBlockAssociations[1].associationId, "vpc-cidr-assoc-0002");
  EXPECT_EQ(v->items[0].cidrBlockAssociations[1].state, "associated");

  auto g = parseDescribeInternetGateways(readGolden("xml/describe_internet_gateways.xml"));
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->items.size(), 1u);
  EXPECT_EQ(g->items[0].internetGatewayId, "igw-eaad4883EXAMPLE");
  ASSERT_EQ(g->items[0].attachments.size(), 1u);
  EXPECT_EQ(g->items[0].attachments[0].vpcId, "vpc-11ad4878");
}

TEST(Ec2Xml, DescribeInstancesFlattensReservations) {
  auto r = parseDescribeInstances(readGolden("xml/describe_instances.xml"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 2u);
  const Instance& i = r->items[0];
  EXPECT_EQ(i.instanceId, "i-1234567890abcdef0");
  EXPECT_EQ(i.state, "running");
  EXPECT_EQ(i.availabilityZone, "eu-west-1c");
  ASSERT_EQ(i.networkInterfaces.size(), 1u);
  EXPECT_EQ(i.networkInterfaces[0].macAddress, "02:dd:2c:5e:01:69");
  EXPECT_EQ(i.networkInterfaces[0].deviceIndex, 0);
  EXPECT_EQ(r->items[1].state, "pending");
}

TEST(Ec2Xml, CreateAndAssociateShapes) {
  auto eni = parseCreateNetworkInterface(readGolden("xml/create_network_interface.xml"));
  ASSERT_TRUE(eni.ok());
  EXPECT_EQ(eni->networkInterfaceId, "eni-cfca76a6");
  EXPECT_EQ(eni->privateIpAddress, "10.0.2.157");
  EXPECT_EQ(eni->groupIds, (std::vector<std::string>{"sg-1a2b3c4d"}));

  auto sn = parseCreateSubnet(readGolden("xml/create_subnet.xml"));
  ASSERT_TRUE(sn.ok());
  EXPECT_EQ(sn->subnetId, "subnet-9d4a7b6c");
  EXPECT_EQ(sn->availabilityZone, "ap-northeast-3a");

  auto rt = parseCreateRouteTable(readGolden("xml/create_route_table.xml"));
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ(rt->routeTableId, "rtb-f9ad4890");
  EXPECT_EQ(parseAssociateRouteTable(readGolden("xml/associate_route_table.xml")).valueOr(""),
            "rtbassoc-f8ad4891");
  EXPECT_EQ(parseAttachNetworkInterface(readGolden("xml/attach_network_interface.xml")).valueOr(""),
            "eni-attach-d94b09b0");
  EXPECT_EQ(parseAssociateAddress(readGolden("xml/associate_address.xml")).valueOr(""), "eipassoc-fc5ca095");

  auto cidr = parseAssociateVpcCidrBlock(readGolden("xml/associate_vpc_cidr_block.xml"));
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->associationId, "vpc-cidr-assoc-0abc");
  EXPECT_EQ(cidr->state, "associating");

  auto eip = parseAllocateAddress(readGolden("xml/allocate_address.xml"));
  ASSERT_TRUE(eip.ok());
  EXPECT_EQ(eip->allocationId, "eipalloc-5723d13e");
  EXPECT_EQ(eip->publicIp, "198.51.100.1");

  auto run = parseRunInstances(readGolden("xml/run_instances.xml"));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->size(), 1u);
  EXPECT_EQ((*run)[0].instanceId, "i-1234567890abcdef0");
  EXPECT_EQ((*run)[0].subnetId, "subnet-56f5f633");

  EXPECT_TRUE(parseReturnTrue(readGolden("xml/delete_subnet.xml"), "DeleteSubnet").ok());
}

TEST(Ec2Xml, RejectsWrongOrBrokenDocuments) {
  // Right shape, wrong action.
  EXPECT_FALSE(parseDescribeSubnets(readGolden("xml/describe_vpcs.xml")).ok());
  EXPECT_FALSE(parseDescribeSubnets("<DescribeSubnetsResponse><subnetSet>").ok());
  EXPECT_FALSE(
      parseReturnTrue("<DeleteSubnetResponse><return>false</return></DeleteSubnetResponse>", "DeleteSubnet")
          .ok());
  EXPECT_FALSE(parseAttachNetworkInterface("<AttachNetworkInterfaceResponse/>").ok());
  EXPECT_FALSE(parseRunInstances("<RunInstancesResponse><instancesSet/></RunInstancesResponse>").ok());
}

TEST(Ec2Xml, ErrorShapesKeepAwsCode) {
  AwsError nf = parseErrorResponse(readGolden("xml/error_eni_not_found.xml"), 400, "DeleteNetworkInterface");
  EXPECT_EQ(nf.code, "InvalidNetworkInterfaceID.NotFound");
  EXPECT_EQ(nf.message, "The networkInterface ID 'eni-0bad' does not exist");
  EXPECT_EQ(nf.requestId, "5a3f1c2e-0000-4000-8000-000000000001");
  EXPECT_EQ(nf.kind, ErrorCode::kNotFound);
  EXPECT_TRUE(nf.isNotFound());
  EXPECT_FALSE(nf.isRetryable());

  AwsError dv = parseErrorResponse(readGolden("xml/error_dependency_violation.xml"), 400, "DeleteSubnet");
  EXPECT_TRUE(dv.is("DependencyViolation"));
  EXPECT_FALSE(dv.is("InvalidNetworkInterfaceID.NotFound"));
  EXPECT_EQ(dv.kind, ErrorCode::kConflict);
  EXPECT_FALSE(dv.isRetryable());
  Error flat = dv;  // converts for FLB_TRY users, keeping code and request id in the text
  EXPECT_EQ(flat.code, ErrorCode::kConflict);
  EXPECT_NE(flat.message.find("DependencyViolation"), std::string::npos);
  EXPECT_NE(flat.message.find("5a3f1c2e-0000-4000-8000-000000000002"), std::string::npos);

  AwsError th = parseErrorResponse(readGolden("xml/error_request_limit.xml"), 503, "AssociateAddress");
  EXPECT_TRUE(th.isThrottling());
  EXPECT_TRUE(th.isRetryable());
  EXPECT_EQ(th.kind, ErrorCode::kUnavailable);

  AwsError gen = parseErrorResponse(readGolden("xml/error_generic_query.xml"), 403, "DescribeVpcs");
  EXPECT_EQ(gen.code, "InvalidClientTokenId");
  EXPECT_EQ(gen.requestId, "5a3f1c2e-0000-4000-8000-000000000004");
  EXPECT_EQ(gen.kind, ErrorCode::kPermissionDenied);

  AwsError html = parseErrorResponse("<html>bad gateway</html>", 502, "DescribeVpcs");
  EXPECT_TRUE(html.code.empty());
  EXPECT_TRUE(html.isRetryable());
  AwsError junk = parseErrorResponse("not xml", 400, "DescribeVpcs");
  EXPECT_FALSE(junk.isRetryable());
  EXPECT_EQ(junk.kind, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace floatlb::cloud::aws
