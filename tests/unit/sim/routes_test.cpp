// vpcsim routes (fast-failover.md §4): network-interface targets, more-specific routes, gateway
// route tables (ingress routing), blackholes, source/dest check, and the routing plan the realiser
// applies, driven through the Query API as a client would.
#include <gtest/gtest.h>

#include <regex>

#include "routes_world.h"
#include "sim/model.h"
#include "sim/topology.h"

namespace floatlb::sim {
namespace {

using namespace std::chrono_literals;
using K = PlannedRoute::Kind;

std::string xmlValue(const std::string& xml, const std::string& tag, size_t nth = 0) {
  std::regex re("<" + tag + ">([^<]*)</" + tag + ">");
  auto it = std::sregex_iterator(xml.begin(), xml.end(), re);
  for (size_t i = 0; it != std::sregex_iterator(); ++it, ++i) {
    if (i == nth) return (*it)[1];
  }
  return "";
}

constexpr const char* kBlock = "192.168.248.0/24";

// The routed seed: lb1 (AZ-a), lb2 (AZ-b), the VIP subnet in AZ-c with its parked ENI.
class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelConfig cfg;
    cfg.detach_time = 2s;
    topo_ = testing::loadRoutesWorld(model_, clock_, cfg, {"eip"});
    ASSERT_FALSE(topo_.vpc_id.empty());
    main_rtb_ = xmlValue(
        call("DescribeRouteTables", {{"Filter.1.Name", "association.main"}, {"Filter.1.Value.1", "true"}})
            .body,
        "routeTableId");
    ASSERT_FALSE(main_rtb_.empty());
  }

  ApiResponse call(const std::string& action, std::map<std::string, std::string> kv = {}) {
    clock_.advance(1ms);
    return model_->handle(action, Params(std::move(kv)), "req-1");
  }
  static std::string code(const ApiResponse& r) { return r.http_status == 200 ? "OK" : r.error_code; }
  std::string eniOf(const std::string& name) {
    return model_->instance(topo_.instances.at(name))->primary_eni;
  }
  std::string igw() { return topo_.igw_id; }
  std::string newTable() {
    auto r = call("CreateRouteTable", {{"VpcId", topo_.vpc_id}});
    EXPECT_EQ(r.http_status, 200) << r.body;
    return xmlValue(r.body, "routeTableId");
  }
  ApiResponse route(const std::string& action, const std::string& rtb, const std::string& dest,
                    std::map<std::string, std::string> target) {
    target["RouteTableId"] = rtb;
    target["DestinationCidrBlock"] = dest;
    return call(action, target);
  }
  const PlannedRoute* planned(const std::vector<PlannedRoute>& routes, const std::string& dest) {
    for (const auto& r : routes) {
      if (r.dest.str() == dest) return &r;
    }
    return nullptr;
  }
  int seqOf(const std::string& subnet) { return model_->subnet(topo_.subnets.at(subnet))->seq; }

  FakeClock clock_;
  std::unique_ptr<Ec2Model> model_;
  LoadedTopology topo_;
  std::string main_rtb_;
};

TEST_F(RoutesTest, MoreSpecificRouteToAnEniAndItsValidation) {
  // Destination = the whole VIP subnet, target = lb1's ENI: the documented more-specific route.
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb1")}})), "OK");
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb2")}})),
            "RouteAlreadyExists");
  // Inside the VPC but not a whole subnet, or to a gateway: refused.
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "192.168.248.0/25", {{"NetworkInterfaceId", eniOf("lb1")}})),
            "InvalidParameterValue");
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "192.168.218.0/24", {{"GatewayId", igw()}})),
            "InvalidParameterValue");
  // Target checks.
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "10.0.0.0/8", {})), "MissingParameter");
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "10.0.0.0/8",
                       {{"NetworkInterfaceId", eniOf("lb1")}, {"GatewayId", igw()}})),
            "InvalidParameterCombination");
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "10.0.0.0/8", {{"NetworkInterfaceId", "eni-0nope"}})),
            "InvalidNetworkInterfaceID.NotFound");
  EXPECT_EQ(code(route("CreateRoute", "rtb-0nope", "10.0.0.0/8", {{"GatewayId", igw()}})),
            "InvalidRouteTableID.NotFound");
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "10.0.0.0/33", {{"GatewayId", igw()}})),
            "InvalidParameterValue");
  // Outside the VPC any target is fine (overlay IP style).
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "10.9.9.9/32", {{"NetworkInterfaceId", eniOf("lb2")}})),
            "OK");

  auto d = call("DescribeRouteTables", {{"RouteTableId.1", main_rtb_}});
  ASSERT_EQ(d.http_status, 200) << d.body;
  EXPECT_NE(d.body.find("<destinationCidrBlock>192.168.248.0/24</destinationCidrBlock><instanceId>"),
            std::string::npos)
      << d.body;
  EXPECT_NE(d.body.find("<networkInterfaceId>" + eniOf("lb1") + "</networkInterfaceId><state>active</state>"),
            std::string::npos)
      << d.body;
  EXPECT_NE(d.body.find("<instanceId>" + topo_.instances.at("lb1") + "</instanceId>"), std::string::npos);
  auto f = call("DescribeRouteTables",
                {{"Filter.1.Name", "route.network-interface-id"}, {"Filter.1.Value.1", eniOf("lb1")}});
  EXPECT_EQ(xmlValue(f.body, "routeTableId"), main_rtb_);
}

TEST_F(RoutesTest, ReplaceAndDeleteRoute) {
  EXPECT_EQ(code(route("ReplaceRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb1")}})),
            "InvalidRoute.NotFound");
  ASSERT_EQ(code(route("CreateRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb1")}})), "OK");
  ASSERT_EQ(code(route("ReplaceRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb2")}})), "OK");
  const RouteTable* rt = model_->routeTable(main_rtb_);
  ASSERT_EQ(rt->routes.back().network_interface_id, eniOf("lb2"));
  // The same validation as CreateRoute applies to the new target.
  EXPECT_EQ(code(route("ReplaceRoute", main_rtb_, kBlock, {{"GatewayId", igw()}})), "InvalidParameterValue");
  // The local route cannot be deleted; an unknown route is InvalidRoute.NotFound.
  EXPECT_EQ(code(route("DeleteRoute", main_rtb_, "192.168.0.0/16", {})), "InvalidParameterValue");
  EXPECT_EQ(code(route("DeleteRoute", main_rtb_, "10.0.0.0/8", {})), "InvalidRoute.NotFound");
  EXPECT_EQ(code(route("DeleteRoute", main_rtb_, kBlock, {})), "OK");
  EXPECT_EQ(code(route("DeleteRoute", main_rtb_, kBlock, {})), "InvalidRoute.NotFound");
  // The CIDR is canonicalised, as AWS does (the loader gave the main table its IGW route).
  EXPECT_EQ(code(route("CreateRoute", main_rtb_, "0.0.0.1/0", {{"GatewayId", igw()}})), "RouteAlreadyExists");
  ASSERT_EQ(code(route("DeleteRoute", main_rtb_, "0.0.0.0/0", {})), "OK");
  ASSERT_EQ(code(route("CreateRoute", main_rtb_, "0.0.0.1/0", {{"GatewayId", igw()}})), "OK");
  EXPECT_EQ(code(route("DeleteRoute", main_rtb_, "0.0.0.0/0", {})), "OK");
}

TEST_F(RoutesTest, GatewayRouteTableIngressRouting) {
  std::string gw = newTable();
  auto a = call("AssociateRouteTable", {{"RouteTableId", gw}, {"GatewayId", igw()}});
  ASSERT_EQ(a.http_status, 200) << a.body;
  std::string assoc = xmlValue(a.body, "associationId");
  // One table per gateway.
  std::string other = newTable();
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", other}, {"GatewayId", igw()}})),
            "Resource.AlreadyAssociated");
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", other}, {"GatewayId", "igw-0nope"}})),
            "InvalidGatewayID.NotFound");
  EXPECT_EQ(code(call("AssociateRouteTable",
                      {{"RouteTableId", other}, {"GatewayId", igw()}, {"SubnetId", topo_.subnets.at("a")}})),
            "InvalidParameterCombination");
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", other}})), "MissingParameter");
  // Only local / ENI targets, only the VPC CIDR or a whole subnet CIDR.
  EXPECT_EQ(code(route("CreateRoute", gw, kBlock, {{"NetworkInterfaceId", eniOf("lb1")}})), "OK");
  EXPECT_EQ(code(route("CreateRoute", gw, "0.0.0.0/0", {{"GatewayId", igw()}})), "InvalidParameterValue");
  EXPECT_EQ(code(route("CreateRoute", gw, "10.0.0.0/8", {{"NetworkInterfaceId", eniOf("lb1")}})),
            "InvalidParameterValue");
  EXPECT_EQ(code(route("CreateRoute", gw, "192.168.248.128/25", {{"NetworkInterfaceId", eniOf("lb1")}})),
            "InvalidParameterValue");
  // A gateway table cannot also serve a subnet; a table with an IGW route cannot become one.
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", gw}, {"SubnetId", topo_.subnets.at("a")}})),
            "InvalidParameterValue");
  ASSERT_EQ(code(route("CreateRoute", other, "0.0.0.0/0", {{"GatewayId", igw()}})), "OK");
  ASSERT_EQ(code(call("DisassociateRouteTable", {{"AssociationId", assoc}})), "OK");
  EXPECT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", other}, {"GatewayId", igw()}})),
            "InvalidParameterValue");
  ASSERT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", gw}, {"GatewayId", igw()}})), "OK");
  auto d =
      call("DescribeRouteTables", {{"Filter.1.Name", "association.gateway-id"}, {"Filter.1.Value.1", igw()}});
  EXPECT_EQ(xmlValue(d.body, "routeTableId"), gw);
  EXPECT_EQ(xmlValue(d.body, "gatewayId", 1), igw()) << d.body;  // [0] is the local route's "local"
  // The plan: traffic entering from the IGW for the VIP subnet goes to lb1's primary IP.
  RoutingPlan plan = model_->routingPlan();
  const PlannedRoute* p = planned(plan.gateway_routes, kBlock);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind, K::kEni);
  EXPECT_EQ(p->via.str(), "192.168.218.60");
  EXPECT_EQ(p->via_subnet_seq, seqOf("a"));
  // Failover = one ReplaceRoute: the plan follows.
  ASSERT_EQ(code(route("ReplaceRoute", gw, kBlock, {{"NetworkInterfaceId", eniOf("lb2")}})), "OK");
  EXPECT_EQ(planned(model_->routingPlan().gateway_routes, kBlock)->via.str(), "192.168.228.108");
}

TEST_F(RoutesTest, ReplaceRouteTableAssociationMovesSubnetAndMain) {
  std::string rtb = newTable();
  auto a = call("AssociateRouteTable", {{"RouteTableId", rtb}, {"SubnetId", topo_.subnets.at("a")}});
  std::string assoc = xmlValue(a.body, "associationId");
  EXPECT_EQ(model_->routeTableOfSubnet(topo_.subnets.at("a"))->id, rtb);
  EXPECT_EQ(model_->routeTableOfSubnet(topo_.subnets.at("b"))->id, main_rtb_);
  auto r = call("ReplaceRouteTableAssociation", {{"AssociationId", assoc}, {"RouteTableId", main_rtb_}});
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_FALSE(xmlValue(r.body, "newAssociationId").empty());
  EXPECT_EQ(model_->routeTableOfSubnet(topo_.subnets.at("a"))->id, main_rtb_);
  EXPECT_EQ(code(call("ReplaceRouteTableAssociation", {{"AssociationId", assoc}, {"RouteTableId", rtb}})),
            "InvalidAssociationID.NotFound");
  EXPECT_EQ(code(call("ReplaceRouteTableAssociation",
                      {{"AssociationId", "rtbassoc-0x"}, {"RouteTableId", "rtb-0x"}})),
            "InvalidRouteTableID.NotFound");
}

TEST_F(RoutesTest, BlackholeWhenTheTargetIsGoneOrDown) {
  // A second ENI on lb1 as the target, so it can be detached and deleted.
  auto c = call("CreateNetworkInterface", {{"SubnetId", topo_.subnets.at("a")}});
  std::string eni = xmlValue(c.body, "networkInterfaceId");
  auto at =
      call("AttachNetworkInterface",
           {{"NetworkInterfaceId", eni}, {"InstanceId", topo_.instances.at("lb1")}, {"DeviceIndex", "1"}});
  ASSERT_EQ(at.http_status, 200) << at.body;
  ASSERT_EQ(code(route("CreateRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eni}})), "OK");
  const RouteTable* rt = model_->routeTable(main_rtb_);
  EXPECT_EQ(model_->routeState(rt->routes.back()), "active");
  // Instance down (admin) -> blackhole; up again -> active.
  ASSERT_TRUE(model_->setInstanceRunning(topo_.instances.at("lb1"), false).ok());
  EXPECT_EQ(model_->routeState(rt->routes.back()), "blackhole");
  EXPECT_EQ(planned(model_->routingPlan().subnet_routes.at(seqOf("b")), kBlock)->kind, K::kBlackhole);
  ASSERT_TRUE(model_->setInstanceRunning(topo_.instances.at("lb1"), true).ok());
  EXPECT_EQ(model_->routeState(rt->routes.back()), "active");
  // Detached, then deleted: blackhole, and DescribeRouteTables says so (route.state filter too).
  ASSERT_EQ(code(call("DetachNetworkInterface", {{"AttachmentId", xmlValue(at.body, "attachmentId")}})),
            "OK");
  clock_.advance(3s);
  model_->tick();
  EXPECT_EQ(model_->routeState(rt->routes.back()), "blackhole");
  ASSERT_EQ(code(call("DeleteNetworkInterface", {{"NetworkInterfaceId", eni}})), "OK");
  auto d = call("DescribeRouteTables", {{"Filter.1.Name", "route.state"}, {"Filter.1.Value.1", "blackhole"}});
  EXPECT_EQ(xmlValue(d.body, "routeTableId"), main_rtb_);
  EXPECT_NE(d.body.find("<state>blackhole</state>"), std::string::npos) << d.body;
  // Replacing the blackholed route's target revives it.
  ASSERT_EQ(code(route("ReplaceRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb2")}})), "OK");
  EXPECT_EQ(model_->routeState(model_->routeTable(main_rtb_)->routes.back()), "active");
}

TEST_F(RoutesTest, PlanCarriesSubnetTablesAndSourceDestCheck) {
  std::string rtb = newTable();
  ASSERT_EQ(code(call("AssociateRouteTable", {{"RouteTableId", rtb}, {"SubnetId", topo_.subnets.at("b")}})),
            "OK");
  ASSERT_EQ(code(route("CreateRoute", rtb, kBlock, {{"NetworkInterfaceId", eniOf("lb2")}})), "OK");
  ASSERT_EQ(code(route("CreateRoute", main_rtb_, kBlock, {{"NetworkInterfaceId", eniOf("lb1")}})), "OK");
  RoutingPlan plan = model_->routingPlan();
  EXPECT_EQ(planned(plan.subnet_routes.at(seqOf("b")), kBlock)->via.str(), "192.168.228.108");
  EXPECT_EQ(planned(plan.subnet_routes.at(seqOf("a")), kBlock)->via.str(), "192.168.218.60");
  EXPECT_EQ(planned(plan.subnet_routes.at(seqOf("a")), "192.168.0.0/16")->kind, K::kLocal);
  EXPECT_TRUE(plan.gateway_routes.empty());
  // Source/dest check: on by default, ModifyNetworkInterfaceAttribute turns it off (and Describe shows it).
  auto check_of = [&](const std::string& eni) {
    for (const auto& c : model_->routingPlan().enis) {
      if (c.eni_seq == model_->eni(eni)->seq) return c.source_dest_check;
    }
    ADD_FAILURE() << "no ENI " << eni << " in the plan";
    return false;
  };
  EXPECT_TRUE(check_of(eniOf("lb1")));
  ASSERT_EQ(code(call("ModifyNetworkInterfaceAttribute",
                      {{"NetworkInterfaceId", eniOf("lb1")}, {"SourceDestCheck.Value", "false"}})),
            "OK");
  EXPECT_FALSE(check_of(eniOf("lb1")));
  EXPECT_TRUE(check_of(eniOf("lb2")));
  auto d = call("DescribeNetworkInterfaces", {{"NetworkInterfaceId.1", eniOf("lb1")}});
  EXPECT_EQ(xmlValue(d.body, "sourceDestCheck"), "false");
  EXPECT_NE(plan, model_->routingPlan());  // the plan is a value: the server re-applies it only on change
}

}  // namespace
}  // namespace floatlb::sim
