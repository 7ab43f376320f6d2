// The routed planner/executor against vpcsim's pure Ec2Model (tests/support/sim_world.h: the real
// Ec2Client over an in-process transport, a FakeClock, no sockets): prepare from the routed seed is
// idempotent and safe after a lost answer, a failover is one round of route writes with no read and
// moves the model's routing plan, the old master's verify steps down without writing.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "cloud/takeover/routed_exec.h"
#include "support/sim_world.h"

namespace floatlb::cloud::takeover {
namespace {

using aws::testing::kBlock;
using aws::testing::kVip;
using aws::testing::SimWorld;

class RoutedSim : public ::testing::Test {
 protected:
  SimWorld w{std::chrono::seconds(2), /*latency=*/true, /*routed=*/true};

  RoutedGoal goal(const std::string& name, uint64_t epoch) {
    const sim::Instance* inst = w.model->instance(w.id(name));
    RoutedGoal g;
    g.instanceId = inst->id;
    g.eniId = inst->primary_eni;
    g.availabilityZone = inst->az;
    g.vpcId = inst->vpc_id;
    g.cidrBlock = Cidr::parse(kBlock).value();
    g.vips = {{Ip4::parse(kVip).value(), w.eip()}};
    g.securityGroupIds = w.model->eni(inst->primary_eni)->groups;
    const std::string peer = name == "lb1" ? "lb2" : "lb1";
    g.peerIps = {w.model->eni(w.model->instance(w.id(peer))->primary_eni)->ips.front().str()};
    g.epoch = epoch;
    return g;
  }
  static bool mutating(const std::string& action) { return action.rfind("Describe", 0) != 0; }
  size_t mark() { return w.transport->requests().size(); }
  std::vector<aws::testing::ModelTransport::Request> since(size_t first) {
    auto all = w.transport->requests();
    return {all.begin() + static_cast<std::ptrdiff_t>(first), all.end()};
  }
  // Where the model routes the VIP block for ingress (gateway table) and from subnet a.
  std::string ingressVia() {
    for (const auto& r : w.model->routingPlan().gateway_routes) {
      if (r.dest.str() == kBlock) return r.kind == sim::PlannedRoute::Kind::kEni ? r.via.str() : "not an ENI";
    }
    return "none";
  }
};

TEST_F(RoutedSim, PrepareFromTheSeedThenIdempotentThenOneRoundFailover) {
  RoutedExecutor lb1(*w.client, w.clock, w.sleeper);
  auto prep = lb1.startTimeline("prepare");
  ASSERT_TRUE(lb1.prepare(goal("lb1", 1), prep).ok()) << prep.error;
  // The VIP subnet went to AZ-c (no LB there), its ENI holds the VIP, the EIP maps to it.
  const sim::ElasticIp* eip = w.model->address(w.topo.eips.at("eip"));
  ASSERT_FALSE(eip->eni_id.empty());
  const sim::Eni* vip_eni = w.model->eni(eip->eni_id);
  EXPECT_EQ(vip_eni->az, "ap-northeast-3c");
  EXPECT_EQ(eip->private_ip.str(), kVip);
  EXPECT_FALSE(vip_eni->attachment.has_value()) << "the VIP ENI is never attached";
  EXPECT_FALSE(w.model->eni(goal("lb1", 1).eniId)->source_dest_check);
  EXPECT_NE(w.model->gatewayRouteTable(w.topo.igw_id), nullptr);
  EXPECT_EQ(ingressVia(), "none") << "prepare never writes the VIP block's route";

  // Prepare again (and the peer's prepare): nothing to create.
  for (const char* who : {"lb1", "lb2"}) {
    RoutedExecutor again(*w.client, w.clock, w.sleeper);
    const size_t first = mark();
    auto tl = again.startTimeline("prepare");
    ASSERT_TRUE(again.prepare(goal(who, 1), tl).ok()) << tl.error;
    for (const auto& r : since(first)) {
      // lb2's own primary ENI still needs its source/dest check off; nothing else may change.
      if (mutating(r.action)) {
        EXPECT_EQ(std::string(who) + r.action, "lb2ModifyNetworkInterfaceAttribute");
      }
    }
  }

  const size_t first = mark();
  auto tl = lb1.startTimeline("MASTER (epoch 1)");
  ASSERT_TRUE(lb1.failover(goal("lb1", 1), tl).ok()) << tl.error;
  std::set<std::thread::id> threads;
  size_t writes = 0;
  for (const auto& r : since(first)) {
    if (r.action == "CreateTags") break;
    EXPECT_TRUE(r.action == "CreateRoute" || r.action == "ReplaceRoute")
        << r.action << ": no read on the path";
    EXPECT_TRUE(r.ok) << r.action;
    threads.insert(r.thread);
    ++writes;
  }
  EXPECT_EQ(writes, 2u) << "gateway table + main table";
  EXPECT_EQ(threads.size(), 2u) << "issued together";
  EXPECT_EQ(tl.criticalSerialCalls(), 1u) << tl.json();
  EXPECT_EQ(tl.criticalReads(), 0u);
  EXPECT_EQ(ingressVia(), "192.168.218.60");
  const sim::RouteTable* main = w.model->routeTableOfSubnet(w.topo.subnets.at("b"));
  EXPECT_EQ(main->routes.back().network_interface_id, goal("lb1", 1).eniId);
}

TEST_F(RoutedSim, TakeoverByThePeerAndTheOldMasterStepsDownWithoutWriting) {
  RoutedExecutor lb1(*w.client, w.clock, w.sleeper), lb2(*w.client, w.clock, w.sleeper);
  auto p1 = lb1.startTimeline("prepare");
  ASSERT_TRUE(lb1.prepare(goal("lb1", 1), p1).ok()) << p1.error;
  auto f1 = lb1.startTimeline("MASTER");
  ASSERT_TRUE(lb1.failover(goal("lb1", 1), f1).ok()) << f1.error;
  auto p2 = lb2.startTimeline("prepare");
  ASSERT_TRUE(lb2.prepare(goal("lb2", 1), p2).ok()) << p2.error;
  // lb2 takes over with a newer epoch (lb1 partitioned away but alive).
  auto f2 = lb2.startTimeline("MASTER");
  ASSERT_TRUE(lb2.failover(goal("lb2", 2), f2).ok()) << f2.error;
  EXPECT_EQ(ingressVia(), "192.168.228.108");
  EXPECT_EQ(f2.criticalSerialCalls(), 1u);
  // lb1's verify: one read, routes on the newer peer -> step down, no write.
  const size_t first = mark();
  auto v = lb1.startTimeline("verify");
  auto verdict = lb1.verify(goal("lb1", 1), v);
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  EXPECT_EQ(verdict->kind, RoutedVerdict::Kind::kStepDown) << verdict->reason;
  const auto reqs = since(first);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].action, "DescribeRouteTables");
  EXPECT_EQ(ingressVia(), "192.168.228.108");
  // lb1 comes back as MASTER later (lb2 died): its stale cache says "mine", it writes anyway.
  auto back = lb1.startTimeline("MASTER again");
  ASSERT_TRUE(lb1.failover(goal("lb1", 3), back).ok()) << back.error;
  EXPECT_EQ(ingressVia(), "192.168.218.60");
}

TEST_F(RoutedSim, PrepareIsSafeAfterALostAnswerHalfway) {
  // The VIP ENI is created but the answer is lost (a crash right after the call, as far as the
  // caller knows): the next prepare finds it by its tag and creates no second one.
  int lost = 0;
  w.transport->lose_answer = [&](const std::string& action) {
    return action == "CreateNetworkInterface" && lost++ == 0;
  };
  RoutedExecutor first(*w.client, w.clock, w.sleeper);
  auto t1 = first.startTimeline("prepare");
  (void)first.prepare(goal("lb1", 1), t1);
  RoutedExecutor second(*w.client, w.clock, w.sleeper);
  auto t2 = second.startTimeline("prepare");
  EXPECT_GE(lost, 1) << "the answer of the first CreateNetworkInterface was lost";
  ASSERT_TRUE(second.prepare(goal("lb1", 1), t2).ok()) << t2.error;
  int vip_enis = 0;
  for (const auto& [id, e] : w.model->enis()) vip_enis += e.subnet_id == second.context()->subnetId;
  EXPECT_EQ(vip_enis, 1) << "exactly one ENI in the VIP subnet";
  EXPECT_EQ(w.model->address(w.topo.eips.at("eip"))->private_ip.str(), kVip);
}

}  // namespace
}  // namespace floatlb::cloud::takeover
