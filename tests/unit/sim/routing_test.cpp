// The route-table model realised (routing.h, Realiser::applyRouting): kernel policy routing and the
// source/dest-check table derived from Ec2Model::routingPlan(), the minimal `ip -batch` diff of a
// failover, the propagation delay on a fake clock, and DryRun/UnauthorizedOperation.
#include "sim/routing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "routes_world.h"
#include "sim/ec2_query.h"
#include "sim/model.h"
#include "sim/realiser.h"
#include "sim/topology.h"

namespace floatlb::sim {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBlock = "192.168.248.0/24";

std::string xmlValue(const std::string& xml, const std::string& tag) {
  std::smatch m;
  return std::regex_search(xml, m, std::regex("<" + tag + ">([^<]*)</" + tag + ">")) ? m[1].str() : "";
}

// Records every command instead of running it.
class RecordingRunner final : public CommandRunner {
 public:
  Status run(const std::vector<std::string>& argv, const std::string& stdin_data) override {
    calls.push_back({argv, stdin_data});
    return okStatus();
  }
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };
  std::vector<Call> calls;
};

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topo_ = testing::loadRoutesWorld(model_, clock_, ModelConfig{}, {});
    ASSERT_FALSE(topo_.vpc_id.empty());
    main_ = model_->routeTableOfSubnet(topo_.subnets.at("a"))->id;
    auto gw = call("CreateRouteTable", {{"VpcId", topo_.vpc_id}});
    gw_ = xmlValue(gw.body, "routeTableId");
    ASSERT_EQ(call("AssociateRouteTable", {{"RouteTableId", gw_}, {"GatewayId", topo_.igw_id}}).http_status,
              200);
  }
  ApiResponse call(const std::string& action, std::map<std::string, std::string> kv) {
    clock_.advance(1ms);
    return model_->handle(action, Params(std::move(kv)), "req-1");
  }
  std::string eniOf(const std::string& name) {
    return model_->instance(topo_.instances.at(name))->primary_eni;
  }
  int seqOf(const std::string& subnet) { return model_->subnet(topo_.subnets.at(subnet))->seq; }
  std::string br(const std::string& subnet) { return "br" + std::to_string(seqOf(subnet)); }
  int tableOf(const std::string& subnet) { return kSubnetTableBase + seqOf(subnet); }
  // The routed prepare's routes: the VIP subnet to `lb` in the gateway table and the main table.
  void routeBlockTo(const std::string& action, const std::string& lb) {
    for (const auto& rtb : {gw_, main_}) {
      auto r =
          call(action,
               {{"RouteTableId", rtb}, {"DestinationCidrBlock", kBlock}, {"NetworkInterfaceId", eniOf(lb)}});
      ASSERT_EQ(r.http_status, 200) << r.body;
    }
  }

  FakeClock clock_;
  std::unique_ptr<Ec2Model> model_;
  LoadedTopology topo_;
  std::string main_, gw_;
};

TEST_F(RoutingTest, PlanBecomesPerSubnetTablesAndAGatewayTable) {
  routeBlockTo("CreateRoute", "lb1");
  KernelRouting k = kernelRouting(model_->routingPlan());
  const int ta = tableOf("a");
  EXPECT_EQ(k.rules.at(ta), "iif " + br("a") + " lookup " + std::to_string(ta));
  EXPECT_EQ(k.rules.at(kGatewayTable), "iif igw0 lookup 9999");
  // Main table (every subnet uses it): local and IGW routes fall through to the main kernel table,
  // the more-specific route goes to lb1's primary IP on subnet a's bridge.
  const auto& t = k.tables.at(ta);
  EXPECT_EQ(t.at("192.168.0.0/16"), "throw 192.168.0.0/16");
  EXPECT_EQ(t.at("0.0.0.0/0"), "throw 0.0.0.0/0");
  EXPECT_EQ(t.at(kBlock), std::string(kBlock) + " via 192.168.218.60 dev " + br("a") + " onlink");
  EXPECT_EQ(k.tables.at(tableOf("b")), t);
  // The gateway table: the VIP subnet to lb1, no default (the local route handles the rest).
  const auto& g = k.tables.at(kGatewayTable);
  EXPECT_EQ(g.at(kBlock), std::string(kBlock) + " via 192.168.218.60 dev " + br("a") + " onlink");
  EXPECT_EQ(g.count("0.0.0.0/0"), 0u);
}

TEST_F(RoutingTest, NoDefaultRouteMeansDroppedAndDownTargetMeansBlackhole) {
  routeBlockTo("CreateRoute", "lb1");
  auto rt = call("CreateRouteTable", {{"VpcId", topo_.vpc_id}});
  std::string isolated = xmlValue(rt.body, "routeTableId");
  ASSERT_EQ(call("AssociateRouteTable", {{"RouteTableId", isolated}, {"SubnetId", topo_.subnets.at("b")}})
                .http_status,
            200);
  ASSERT_TRUE(model_->setInstanceRunning(topo_.instances.at("lb1"), false).ok());
  KernelRouting k = kernelRouting(model_->routingPlan());
  EXPECT_EQ(k.tables.at(tableOf("b")).at("0.0.0.0/0"), "blackhole 0.0.0.0/0");  // no IGW route
  EXPECT_EQ(k.tables.at(tableOf("b")).count(kBlock), 0u);
  EXPECT_EQ(k.tables.at(tableOf("a")).at(kBlock), std::string("blackhole ") + kBlock);
  EXPECT_EQ(k.tables.at(kGatewayTable).at(kBlock), std::string("blackhole ") + kBlock);
}

TEST_F(RoutingTest, FailoverIsOneRouteReplacePerKernelTableAndNoRuleChange) {
  routeBlockTo("CreateRoute", "lb1");
  KernelRouting before = kernelRouting(model_->routingPlan());
  EXPECT_TRUE(routingBatch(before, before).empty());
  routeBlockTo("ReplaceRoute", "lb2");
  std::vector<std::string> batch = routingBatch(before, kernelRouting(model_->routingPlan()));
  // Three subnets on the main table + the gateway table; nothing deleted, no rule touched.
  ASSERT_EQ(batch.size(), 4u);
  const std::string to_lb2 = std::string(kBlock) + " via 192.168.228.108 dev " + br("b") + " onlink";
  EXPECT_EQ(batch[0], "route replace table 9999 " + to_lb2);
  for (const auto& l : batch) EXPECT_EQ(l.rfind("route replace table ", 0), 0u) << l;
  EXPECT_NE(std::find(batch.begin(), batch.end(),
                      "route replace table " + std::to_string(tableOf("vip")) + " " + to_lb2),
            batch.end());
  // Deleting the route removes it from every table; the first plan adds rules after their routes.
  KernelRouting after = kernelRouting(model_->routingPlan());
  ASSERT_EQ(call("DeleteRoute", {{"RouteTableId", main_}, {"DestinationCidrBlock", kBlock}}).http_status,
            200);
  auto del = routingBatch(after, kernelRouting(model_->routingPlan()));
  ASSERT_EQ(del.size(), 3u);
  EXPECT_EQ(del[0], "route del table " + std::to_string(tableOf("a")) + " " +
                        after.tables.at(tableOf("a")).at(kBlock));
  auto first = routingBatch(KernelRouting{}, after);
  EXPECT_EQ(first.back().rfind("rule add ", 0), 0u);
  EXPECT_EQ(first.front().rfind("route replace ", 0), 0u);
}

TEST_F(RoutingTest, SourceDestCheckDropsWhatTheEniDoesNotOwn) {
  const std::string ve1 = "\"ve" + std::to_string(model_->eni(eniOf("lb1"))->seq) + "\"";
  std::string rules = sourceDestCheckRules(model_->routingPlan());
  EXPECT_NE(rules.find("iifname " + ve1 + " ip saddr != { 192.168.218.60 } counter drop"), std::string::npos)
      << rules;
  EXPECT_NE(rules.find("oifname " + ve1 + " ip daddr != { 192.168.218.60 } counter drop"), std::string::npos);
  EXPECT_EQ(rules.find("table bridge vpcsim_sdc {}\ndelete table bridge vpcsim_sdc\n"), 0u);  // atomic reload
  ASSERT_EQ(call("ModifyNetworkInterfaceAttribute",
                 {{"NetworkInterfaceId", eniOf("lb1")}, {"SourceDestCheck.Value", "false"}})
                .http_status,
            200);
  rules = sourceDestCheckRules(model_->routingPlan());
  EXPECT_EQ(rules.find(ve1), std::string::npos) << rules;
  EXPECT_NE(rules.find("\"ve" + std::to_string(model_->eni(eniOf("lb2"))->seq) + "\""), std::string::npos);
}

TEST_F(RoutingTest, PropagationDelayOnTheFakeClock) {
  RoutePropagation p;
  p.setDelay(100ms);
  RoutingPlan v1 = model_->routingPlan();
  p.offer(v1, clock_.now());
  EXPECT_FALSE(p.take(clock_.now() + 99ms));
  EXPECT_EQ(p.take(clock_.now() + 100ms), v1);
  EXPECT_FALSE(p.take(clock_.now() + 200ms));  // nothing new
  p.offer(v1, clock_.now() + 300ms);           // unchanged plan: nothing queued
  EXPECT_FALSE(p.pending());
  // Two changes 50 ms apart: each takes effect 100 ms after its call, in order.
  const TimePoint t0 = clock_.now() + 1s;
  routeBlockTo("CreateRoute", "lb1");
  RoutingPlan v2 = model_->routingPlan();
  p.offer(v2, t0);
  routeBlockTo("ReplaceRoute", "lb2");
  RoutingPlan v3 = model_->routingPlan();
  p.offer(v3, t0 + 50ms);
  EXPECT_FALSE(p.take(t0 + 99ms));
  EXPECT_EQ(p.take(t0 + 120ms), v2);
  EXPECT_EQ(p.take(t0 + 150ms), v3);
  // Zero delay: immediate.
  p.setDelay(Duration{});
  p.offer(v1, t0 + 1s);
  EXPECT_EQ(p.take(t0 + 1s), v1);
}

TEST_F(RoutingTest, RealiserAppliesOnlyTheDiffAndTheSdcTableOnChange) {
  RecordingRunner runner;
  Realiser r(runner, RealiserConfig{"flbt-"});
  routeBlockTo("CreateRoute", "lb1");
  ASSERT_TRUE(r.applyRouting(model_->routingPlan()).ok());
  ASSERT_EQ(runner.calls.size(), 2u);
  EXPECT_EQ(runner.calls[0].argv, (std::vector<std::string>{"ip", "-n", "flbt-vpc", "-batch", "-"}));
  EXPECT_NE(runner.calls[0].input.find("rule add iif igw0 lookup 9999 pref 9999\n"), std::string::npos);
  EXPECT_EQ(runner.calls[1].argv,
            (std::vector<std::string>{"ip", "netns", "exec", "flbt-vpc", "nft", "-f", "-"}));
  ASSERT_TRUE(r.applyRouting(model_->routingPlan()).ok());
  EXPECT_EQ(runner.calls.size(), 2u);  // same plan: no command at all
  routeBlockTo("ReplaceRoute", "lb2");
  ASSERT_TRUE(r.applyRouting(model_->routingPlan()).ok());
  ASSERT_EQ(runner.calls.size(), 3u);  // one batch, the sdc table is unchanged
  EXPECT_EQ(std::count(runner.calls[2].input.begin(), runner.calls[2].input.end(), '\n'), 4);
}

TEST_F(RoutingTest, DryRunAndUnauthorizedOperation) {
  routeBlockTo("CreateRoute", "lb1");
  std::map<std::string, std::string> replace = {{"RouteTableId", gw_},
                                                {"DestinationCidrBlock", kBlock},
                                                {"NetworkInterfaceId", eniOf("lb2")},
                                                {"DryRun", "true"}};
  auto dry = call("ReplaceRoute", replace);
  EXPECT_EQ(dry.http_status, 412);
  EXPECT_EQ(dry.error_code, "DryRunOperation");
  EXPECT_NE(dry.body.find("Request would have succeeded, but DryRun flag is set."), std::string::npos);
  EXPECT_EQ(model_->routeTable(gw_)->routes.back().network_interface_id, eniOf("lb1"));  // unchanged
  model_->front().setDenied({"ReplaceRoute"});
  for (const char* dry_run : {"true", "false"}) {
    replace["DryRun"] = dry_run;
    auto denied = call("ReplaceRoute", replace);
    EXPECT_EQ(denied.http_status, 403);
    EXPECT_EQ(denied.error_code, "UnauthorizedOperation");
  }
  EXPECT_EQ(model_->routeTable(gw_)->routes.back().network_interface_id, eniOf("lb1"));
  EXPECT_EQ(call("DescribeRouteTables", {{"DryRun", "true"}}).error_code, "DryRunOperation");
  model_->front().setDenied({});
  replace["DryRun"] = "false";
  EXPECT_EQ(call("ReplaceRoute", replace).http_status, 200);
}

}  // namespace
}  // namespace floatlb::sim
