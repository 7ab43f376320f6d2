// RoutedExecutor through the real Ec2Client over a scripted transport (EC2's XML shapes, golden
// route tables): a prepared VPC needs no mutation; the failover is one round of concurrent
// ReplaceRoutes with no read before traffic is back; verify reads once and steps down / re-asserts
// as the rule says. Every action is checked against deploy/iam-policy-routed.json at exit.
#include "cloud/takeover/routed_exec.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/routed_world.h"

namespace floatlb::cloud::takeover {
namespace {

using namespace std::chrono_literals;
using testing::RoutedWorld;

TEST(RoutedExec, PreparedVpcNeedsNoMutationAndFailoverIsOneRoundWithoutReads) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(w.goal(), prep).ok()) << prep.error;
  EXPECT_EQ(prep.cycles, 1);
  for (const auto& c : prep.calls) EXPECT_TRUE(isDescribe(c.action)) << c.action;
  ASSERT_TRUE(exec.context().has_value());
  EXPECT_EQ(exec.context()->gatewayTableId, "rtb-0gw000000000000001");
  EXPECT_EQ(exec.context()->routeTableIds, std::vector<std::string>{"rtb-0main0000000000001"});

  const size_t first = w.mark();
  auto tl = exec.startTimeline("MASTER (epoch 8)");
  ASSERT_TRUE(exec.failover(w.goal(), tl).ok()) << tl.error;
  // Counted by the transport: everything up to the last route write is the critical path.
  const auto reqs = w.since(first);
  size_t writes = 0;
  std::set<std::thread::id> threads;
  for (const auto& r : reqs) {
    if (r.action == "CreateTags") break;  // the epoch tag comes after traffic is back
    EXPECT_EQ(r.action, "ReplaceRoute") << "no read, no waiter before traffic is back";
    ++writes;
    threads.insert(r.thread);
  }
  EXPECT_EQ(writes, 2u) << "the gateway table and the main table";
  EXPECT_EQ(threads.size(), 2u) << "issued together, one round";
  EXPECT_EQ(tl.criticalSerialCalls(), 1u) << tl.json();
  EXPECT_EQ(tl.criticalReads(), 0u);
  EXPECT_EQ(tl.mode, "routed");
  ASSERT_TRUE(tl.restoredMs.has_value());
  EXPECT_EQ(reqs.back().action, "CreateTags");
  EXPECT_NE(tl.json().find("\"mode\":\"routed\""), std::string::npos);
}

TEST(RoutedExec, VerifyStepsDownWhenANewerPeerHoldsTheRoutesAndWritesNothing) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  RoutedGoal g = w.goal();
  g.epoch = 6;  // the golden gateway table is tagged epoch 7 by the peer
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(g, prep).ok());
  const size_t first = w.mark();
  auto tl = exec.startTimeline("verify");
  auto v = exec.verify(g, tl);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kind, RoutedVerdict::Kind::kStepDown) << v->reason;
  const auto reqs = w.since(first);
  ASSERT_EQ(reqs.size(), 1u) << "one DescribeRouteTables, no write against the peer";
  EXPECT_EQ(reqs[0].action, "DescribeRouteTables");
}

TEST(RoutedExec, VerifyTakesBackRoutesFromAStaleWriter) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  RoutedGoal g = w.goal();  // epoch 8 > the peer's 7
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(g, prep).ok());
  const size_t first = w.mark();
  auto tl = exec.startTimeline("verify");
  auto v = exec.verify(g, tl);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kind, RoutedVerdict::Kind::kReassert);
  std::map<std::string, int> n;
  for (const auto& r : w.since(first)) ++n[r.action];
  EXPECT_EQ(n["DescribeRouteTables"], 1);
  EXPECT_EQ(n["ReplaceRoute"], 2);
  EXPECT_EQ(n["CreateTags"], 1) << "my epoch on the gateway table";
}

TEST(RoutedExec, CheckFindingsReportAForgottenSourceDestCheck) {
  RoutedWorld w;
  w.my_src_dst = true;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  auto tl = exec.startTimeline("check");
  auto obs = exec.observe(w.goal(), tl);
  ASSERT_TRUE(obs.ok());
  const auto findings = routedFindings(w.goal(), *obs);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].find("source/dest check is on"), std::string::npos) << findings[0];
  w.my_src_dst = false;
  auto obs2 = exec.observe(w.goal(), tl);
  ASSERT_TRUE(obs2.ok());
  EXPECT_TRUE(routedFindings(w.goal(), *obs2).empty());
}

}  // namespace
}  // namespace floatlb::cloud::takeover
