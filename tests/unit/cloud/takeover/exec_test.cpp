// Planner + executor against vpcsim's pure Ec2Model through the real Ec2Client (sim_world.h):
// first takeover, failover to the other AZ, a crash after every possible step, a 20 s detach,
// throttling and 5xx bursts, the old master interfering mid-takeover, cleanup, single-AZ mode.
#include "cloud/takeover/exec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "common/metrics.h"
#include "support/sim_world.h"

namespace floatlb::cloud::takeover {
namespace {

using namespace floatlb::cloud::aws;  // NOLINT(google-build-using-namespace): EC2 value types

using namespace std::chrono_literals;
using aws::testing::SimWorld;

std::string metricsOf(const TakeoverTimeline& tl) {
  MetricsWriter w;
  tl.appendMetrics(w);
  return w.str();
}

struct Run {
  Result<TakeoverResult> result;
  TakeoverTimeline timeline;
};

Run takeover(SimWorld& w, const std::string& name, ExecOptions opts = {}, bool multi_az = true,
             TakeoverExecutor::OnRestored on_restored = {}) {
  TakeoverExecutor exec(*w.client, w.clock, w.sleeper, opts);
  auto tl = exec.startTimeline("MASTER " + name);
  auto r = exec.run(
      w.goal(name, multi_az), tl, [] { return true; }, on_restored);
  return Run{std::move(r), std::move(tl)};
}

TEST(TakeoverExec, FirstTakeoverBuildsTheVipNetwork) {
  SimWorld w;
  int restored_calls = 0;
  TakeoverContext seen;
  auto run = takeover(w, "lb1", {}, true, [&](const TakeoverContext& c) {
    ++restored_calls;
    seen = c;
  });
  ASSERT_TRUE(run.result.ok()) << run.result.error().message << "\n" << run.timeline.json();
  EXPECT_TRUE(run.timeline.converged);
  w.expectOwnedBy("lb1");
  EXPECT_EQ(restored_calls, 1);
  const sim::Eni* eni = w.model->eni(seen.eniId);
  ASSERT_NE(eni, nullptr);
  EXPECT_EQ(seen.eniMac, eni->mac);  // what the OS needs to find the interface
  EXPECT_EQ(seen.eniPrimaryIp, eni->ips.front().str());
  ASSERT_TRUE(run.timeline.restoredMs && run.timeline.doneMs);
  EXPECT_LE(*run.timeline.restoredMs, *run.timeline.doneMs);
  // Running again on a converged state makes no mutating call.
  auto again = takeover(w, "lb1");
  ASSERT_TRUE(again.result.ok());
  EXPECT_EQ(again.timeline.criticalMutations(), 0u);
  for (const auto& c : again.timeline.calls) EXPECT_EQ(c.action.rfind("Describe", 0), 0u) << c.action;
}

TEST(TakeoverExec, FailoverToTheOtherAzWithFewerSerialCallsThanTheReference) {
  SimWorld w;
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  w.expectOwnedBy("lb1");
  // lb2 prepared at start-up (VPC, IGW, route tables described and cached), as the hook does.
  TakeoverExecutor lb2(*w.client, w.clock, w.sleeper);
  auto prep = lb2.startTimeline("prepare");
  ASSERT_TRUE(lb2.prepare(w.goal("lb2"), prep).ok());
  const size_t first = w.transport->requests().size();
  auto tl = lb2.startTimeline("MASTER lb2");
  auto r = lb2.run(w.goal("lb2"), tl, [] { return true; });
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Counted by the transport, not by the executor: the requests up to the answer of the first
  // successful AssociateAddress (traffic for the EIP reaches lb2 from then on). Requests issued
  // from other threads than this one (the executor's) overlapped with one of its own: one round.
  {
    const auto log = w.transport->requests();
    size_t serial = 0, total = 0;
    bool restored = false;
    for (size_t i = first; i < log.size() && !restored; ++i) {
      ++total;
      serial += log[i].thread == std::this_thread::get_id();
      restored = log[i].action == "AssociateAddress" && log[i].ok;
    }
    ASSERT_TRUE(restored) << "no successful AssociateAddress in the request log";
    EXPECT_EQ(serial, 11u) << "serial EC2 round trips before traffic was back\n" << tl.json();
    EXPECT_EQ(total, 13u) << "EC2 requests before traffic was back (2 reads ran alongside)";
  }
  w.expectOwnedBy("lb2");
  // Critical path: 3 concurrent observations (ENIs, subnets, addresses: one round trip) + detach,
  // delete ENI, delete subnet, create subnet, create ENI (with the VIP), attach, associate (+ the
  // detach waiter's polls). The reference makes 19 serial calls, 14 of them mutating (loxilb.md
  // §4.3), plus its delete retries.
  EXPECT_EQ(tl.criticalMutations(), 7u) << tl.json();
  EXPECT_EQ(tl.criticalCalls() - tl.criticalPolls(), 10u) << tl.json();
  EXPECT_LE(tl.criticalPolls(), 4u) << tl.json();
  EXPECT_EQ(tl.criticalSerialCalls(), tl.criticalCalls() - 2) << tl.json();  // 2 reads ran alongside
  EXPECT_LE(tl.criticalSerialCalls(), 12u) << tl.json();
  ASSERT_TRUE(tl.restoredMs.has_value());
  // Latencies come from vpcsim's default model: CreateNetworkInterface alone is 1.8 s, the detach 2 s.
  EXPECT_GE(*tl.restoredMs, 1800 + 2000);
  EXPECT_LT(*tl.restoredMs, 15000);
  // The deferred steps ran after the restore point.
  bool saw_deferred = false;
  for (const auto& c : tl.calls) {
    if (c.action == "AssociateRouteTable" || c.action == "ModifyNetworkInterfaceAttribute") {
      EXPECT_FALSE(c.critical);
      EXPECT_GE(c.startMs, *tl.restoredMs);
      saw_deferred = true;
    }
  }
  EXPECT_TRUE(saw_deferred);
  const std::string json = tl.json();
  EXPECT_NE(json.find("\"action\":\"AssociateAddress\""), std::string::npos);
  EXPECT_NE(metricsOf(tl).find("floatlb_cloud_takeover_critical_mutations 7"), std::string::npos);
  std::printf("lb1 -> lb2 failover timeline: %s\n", json.c_str());
  // And back to AZ-a.
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  w.expectOwnedBy("lb1");
}

// A crash (process killed) after each step of lb2's takeover; a fresh executor then converges.
TEST(TakeoverExec, CrashAfterAnyStepThenRerunConverges) {
  size_t total_steps = 0;
  {
    SimWorld w(2s, false);
    ASSERT_TRUE(takeover(w, "lb1").result.ok());
    TakeoverExecutor exec(*w.client, w.clock, w.sleeper);
    auto tl = exec.startTimeline("probe");
    auto obs = exec.observe(w.goal("lb2"), true, tl);
    ASSERT_TRUE(obs.ok());
    auto plan = planTakeover(w.goal("lb2"), *obs);
    ASSERT_TRUE(plan.ok());
    total_steps = plan->steps.size();
  }
  ASSERT_GE(total_steps, 10u);
  for (size_t crash_after = 1; crash_after < total_steps; ++crash_after) {
    SCOPED_TRACE("crash after step " + std::to_string(crash_after));
    SimWorld w(2s, false);
    ASSERT_TRUE(takeover(w, "lb1").result.ok());
    {
      TakeoverExecutor doomed(*w.client, w.clock, w.sleeper);
      auto tl = doomed.startTimeline("doomed");
      auto obs = doomed.observe(w.goal("lb2"), true, tl);
      ASSERT_TRUE(obs.ok());
      auto plan = planTakeover(w.goal("lb2"), *obs);
      ASSERT_TRUE(plan.ok());
      TakeoverContext ctx = plan->context;
      size_t done = 0;
      auto st = doomed.execute(*plan, w.goal("lb2"), ctx, tl, [&] { return done++ < crash_after; });
      EXPECT_FALSE(st.ok());  // stopped by the "crash"
    }
    w.clock.advance(100ms);
    auto rerun = takeover(w, "lb2");
    ASSERT_TRUE(rerun.result.ok()) << rerun.result.error().message << "\n" << rerun.timeline.json();
    w.expectOwnedBy("lb2");
  }
}

TEST(TakeoverExec, TwentySecondDetachIsWaitedForWithBoundedPolls) {
  SimWorld w(20s);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  auto run = takeover(w, "lb2");
  ASSERT_TRUE(run.result.ok()) << run.result.error().message;
  w.expectOwnedBy("lb2");
  int polls = 0;
  for (const auto& c : run.timeline.calls) {
    if (c.action == "DescribeNetworkInterfaces" && c.critical) ++polls;
  }
  EXPECT_GE(*run.timeline.restoredMs, 20000);
  EXPECT_LE(polls, 16) << "polling backs off to 2 s";
  EXPECT_GE(polls, 10);
  // No conflict retries were needed: the ENI was deleted once, after the waiter.
  int deletes = 0;
  for (const auto& c : run.timeline.calls) deletes += c.action == "DeleteNetworkInterface";
  EXPECT_EQ(deletes, 1);
}

TEST(TakeoverExec, DetachThatNeverEndsIsReportedNotSwallowed) {
  SimWorld w(3600s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  ExecOptions o;
  o.stepTimeout = 10s;
  o.maxCycles = 3;
  auto run = takeover(w, "lb2", o);
  ASSERT_FALSE(run.result.ok());
  EXPECT_EQ(run.result.error().code, ErrorCode::kTimeout);
  EXPECT_NE(run.timeline.error.find("still detaching"), std::string::npos) << run.timeline.error;
  EXPECT_FALSE(run.timeline.converged);
}

TEST(TakeoverExec, ThrottlingAnd5xxBurstsAreRetried) {
  SimWorld w;
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  sim::FaultRule throttle;
  throttle.action = "*";
  throttle.code = "RequestLimitExceeded";
  throttle.http_status = 503;
  throttle.count = 3;
  w.model->faults().add(throttle);
  sim::FaultRule five;
  five.action = "CreateNetworkInterface";
  five.code = "InternalError";
  five.http_status = 500;
  five.count = 2;
  w.model->faults().add(five);
  sim::FaultRule assoc = five;
  assoc.action = "AssociateAddress";
  assoc.code = "ServiceUnavailable";
  assoc.http_status = 503;
  w.model->faults().add(assoc);
  const auto before = w.client->stats().retries;
  auto run = takeover(w, "lb2");
  ASSERT_TRUE(run.result.ok()) << run.result.error().message;
  w.expectOwnedBy("lb2");
  EXPECT_GE(w.client->stats().retries - before, 7u);
  EXPECT_EQ(w.taggedEnis().size(), 1u);  // the retried CreateNetworkInterface made one ENI
  // The timeline shows the retries inside each call (the client hides them from the caller).
  int retried = 0;
  for (const auto& c : run.timeline.calls) {
    if (c.action == "CreateNetworkInterface" || c.action == "AssociateAddress") {
      EXPECT_GE(c.attempts, 3);
    }
    retried += c.attempts - 1;
  }
  EXPECT_EQ(static_cast<uint64_t>(retried), w.client->stats().retries - before) << run.timeline.json();
  EXPECT_NE(run.timeline.json().find("\"attempts\":3"), std::string::npos);
}

TEST(TakeoverExec, LostAttachAnswerIsNotMistakenForAConflict) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  int lost = 0;
  w.transport->lose_answer = [&](const std::string& action) {
    return action == "AttachNetworkInterface" && lost++ == 0;
  };
  auto run = takeover(w, "lb2");
  ASSERT_TRUE(run.result.ok()) << run.result.error().message;
  EXPECT_EQ(lost, 2) << "the client retried the attach once";
  w.expectOwnedBy("lb2");
  // The retry answered InvalidNetworkInterface.InUse (attached to lb2 itself) and the step went on
  // at once: AssociateAddress in the same cycle, right after one Describe, no conflict back-off.
  const TakeoverCall* attach = nullptr;
  const TakeoverCall* assoc = nullptr;
  for (const auto& c : run.timeline.calls) {
    if (c.action == "AttachNetworkInterface") attach = &c;
    if (c.action == "AssociateAddress" && c.ok && !assoc) assoc = &c;
  }
  ASSERT_TRUE(attach && assoc) << run.timeline.json();
  EXPECT_EQ(attach->error.rfind("InvalidNetworkInterface.InUse", 0), 0u) << attach->error;
  EXPECT_EQ(assoc->cycle, 1) << run.timeline.json();
  EXPECT_LE(assoc->startMs, attach->startMs + attach->latencyMs + 100) << run.timeline.json();
}

TEST(TakeoverExec, BurstLongerThanTheClientRetriesFailsTheCycleAndTheNextCycleConverges) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  sim::FaultRule five;
  five.action = "CreateSubnet";
  five.code = "InternalError";
  five.http_status = 500;
  five.count = 6;  // > RetryPolicy::maxAttempts (5)
  w.model->faults().add(five);
  auto run = takeover(w, "lb2");
  ASSERT_TRUE(run.result.ok()) << run.result.error().message;
  EXPECT_GE(run.timeline.cycles, 3);
  bool failed_call = false;
  for (const auto& c : run.timeline.calls) failed_call |= c.action == "CreateSubnet" && !c.ok;
  EXPECT_TRUE(failed_call) << "the failure is in the timeline";
  w.expectOwnedBy("lb2");
}

TEST(TakeoverExec, OldMasterReattachingItsEniMidTakeoverLosesIt) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  const std::string old_eni = w.taggedEnis().front().networkInterfaceId;
  bool interfered = false;
  w.transport->before = [&](const std::string& action, const sim::Params&) {
    // lb1 comes back right after lb2's waiter saw the ENI detached and re-attaches it.
    if (action == "DeleteNetworkInterface" && !interfered) {
      interfered = true;
      w.model->tick();
      auto r = w.model->attachNetworkInterface(old_eni, w.id("lb1"), 1, nullptr);
      ASSERT_TRUE(r.ok()) << r.error().code;
    }
  };
  ExecOptions o;
  o.stepTimeout = 10s;
  auto run = takeover(w, "lb2", o);
  ASSERT_TRUE(run.result.ok()) << run.result.error().message << "\n" << run.timeline.json();
  EXPECT_TRUE(interfered);
  EXPECT_GE(run.timeline.cycles, 2);
  w.expectOwnedBy("lb2");
}

TEST(TakeoverExec, OldMasterReassociatingTheEipIsOverruled) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  int n = 0;
  w.transport->before = [&](const std::string& action, const sim::Params&) {
    // Right after lb2 associated the EIP, lb1 pulls it to its primary address.
    if (action == "ModifyNetworkInterfaceAttribute" && n++ == 0) {
      const sim::Instance* lb1 = w.model->instance(w.id("lb1"));
      auto r =
          w.model->associateAddress(w.topo.eips.at("eip"), lb1->primary_eni, "", std::nullopt, true, nullptr);
      ASSERT_TRUE(r.ok()) << r.error().code;
    }
  };
  auto run = takeover(w, "lb2");
  ASSERT_TRUE(run.result.ok()) << run.result.error().message;
  EXPECT_EQ(n, 1);
  int associates = 0;
  for (const auto& c : run.timeline.calls) associates += c.action == "AssociateAddress";
  EXPECT_EQ(associates, 2) << run.timeline.json();
  w.expectOwnedBy("lb2");
}

TEST(TakeoverExec, AbortsBetweenStepsWhenNoLongerMaster) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb1").result.ok());
  TakeoverExecutor exec(*w.client, w.clock, w.sleeper);
  auto tl = exec.startTimeline("MASTER");
  int checks = 0;
  auto r = exec.run(w.goal("lb2"), tl, [&] { return ++checks < 4; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_NE(tl.error.find("aborted"), std::string::npos);
}

TEST(TakeoverExec, CleanupLeavesNothingTagged) {
  SimWorld w(2s, false);
  ASSERT_TRUE(takeover(w, "lb2").result.ok());
  TakeoverExecutor exec(*w.client, w.clock, w.sleeper);
  auto tl = exec.startTimeline("shutdown");
  auto st = exec.cleanup(w.goal("lb2"), tl);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(w.taggedEnis().empty());
  EXPECT_TRUE(w.taggedSubnets().empty());
  EXPECT_EQ(w.model->address(w.topo.eips.at("eip"))->eni_id, "");
}

TEST(TakeoverExec, SingleAzMovesTheSecondaryIp) {
  // lb1 and lb2 share the subnet; the VIP is a secondary IP of lb1's primary ENI with the EIP.
  SimWorld w(2s, false);
  const sim::Instance* lb1 = w.model->instance(w.id("lb1"));
  auto lb3 =
      w.model->runInstance(lb1->subnet_id, std::nullopt, w.model->eni(lb1->primary_eni)->groups, {}, nullptr);
  ASSERT_TRUE(lb3.ok());
  const std::string vip = "192.168.218.250";
  ASSERT_TRUE(w.model->assignPrivateIps(lb1->primary_eni, {vip}, 0, false, nullptr, nullptr).ok());
  ASSERT_TRUE(w.model
                  ->associateAddress(w.topo.eips.at("eip"), lb1->primary_eni, "", Ip4::parse(vip).value(),
                                     true, nullptr)
                  .ok());
  const sim::Instance* me = w.model->instance(lb3.value());
  TakeoverGoal g;
  g.instanceId = me->id;
  g.availabilityZone = me->az;
  g.vpcId = me->vpc_id;
  g.vips = {{Ip4::parse(vip).value(), w.eip()}};
  TakeoverExecutor exec(*w.client, w.clock, w.sleeper);
  auto tl = exec.startTimeline("MASTER");
  auto r = exec.run(g, tl, [] { return true; });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->context.eniId, me->primary_eni);
  EXPECT_EQ(w.model->instanceByPrivateIp(Ip4::parse(vip).value())->id, me->id);
  const sim::ElasticIp* a = w.model->address(w.topo.eips.at("eip"));
  EXPECT_EQ(a->eni_id, me->primary_eni);
  EXPECT_EQ(a->private_ip.str(), vip);
  EXPECT_EQ(tl.criticalMutations(), 1u) << "only AssignPrivateIpAddresses; the EIP follows the IP";
}

}  // namespace
}  // namespace floatlb::cloud::takeover
