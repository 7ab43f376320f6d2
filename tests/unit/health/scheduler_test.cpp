// ProbeScheduler driven by a FakeClock: due times, retries, recovery, shared targets, removal.
#include "health/scheduler.h"

#include <gtest/gtest.h>

namespace floatlb::health {
namespace {

using std::chrono::seconds;

const TargetKey kA{Ip4::fromOctets(10, 0, 0, 1), ProbeType::kTcp, 80};
const TargetKey kB{Ip4::fromOctets(10, 0, 0, 2), ProbeType::kTcp, 80};

class SchedulerTest : public ::testing::Test {
 protected:
  ProbeScheduler sched{clock, [this](const Transition& t) { transitions.push_back(t); }};

  // Takes due jobs and answers all of them with `ok`; returns how many ran.
  size_t runDue(bool ok) {
    auto jobs = sched.takeDue();
    for (const auto& j : jobs) sched.report(j, ProbeResult{ok, Duration{0}, ""});
    return jobs.size();
  }

  FakeClock clock;
  std::vector<Transition> transitions;
};

TEST_F(SchedulerTest, ProbesImmediatelyThenEveryInterval) {
  TargetConfig cfg;
  cfg.interval = seconds(10);
  EXPECT_TRUE(sched.addTarget(kA, cfg));
  EXPECT_EQ(runDue(true), 1u);
  EXPECT_EQ(runDue(true), 0u) << "not due again before the interval";
  EXPECT_EQ(sched.nextDue(), clock.now() + seconds(10));
  clock.advance(seconds(9));
  EXPECT_EQ(runDue(true), 0u);
  clock.advance(seconds(1));
  EXPECT_EQ(runDue(true), 1u);
  EXPECT_TRUE(transitions.empty()) << "healthy stays healthy";
}

TEST_F(SchedulerTest, FirstProbeDelayIsHonoured) {
  TargetConfig cfg;
  cfg.first_probe_delay = seconds(15);
  sched.addTarget(kA, cfg);
  EXPECT_EQ(runDue(true), 0u);
  clock.advance(seconds(15));
  EXPECT_EQ(runDue(true), 1u);
}

TEST_F(SchedulerTest, RetriesFailuresInARowBeforeDownAndOneSuccessBringsItBack) {
  TargetConfig cfg;
  cfg.interval = seconds(5);
  cfg.retries = 3;
  sched.addTarget(kA, cfg);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(runDue(false), 1u);
    clock.advance(seconds(5));
  }
  EXPECT_TRUE(transitions.empty()) << "2 failures < 3 retries";
  EXPECT_EQ(sched.healthy(kA), true);
  ASSERT_EQ(runDue(false), 1u);
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].key, kA);
  EXPECT_FALSE(transitions[0].healthy);
  clock.advance(seconds(5));
  ASSERT_EQ(runDue(false), 1u);
  EXPECT_EQ(transitions.size(), 1u) << "no repeated DOWN";
  clock.advance(seconds(5));
  ASSERT_EQ(runDue(true), 1u);
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_TRUE(transitions[1].healthy);
}

TEST_F(SchedulerTest, ASuccessResetsTheFailureCount) {
  TargetConfig cfg;
  cfg.interval = seconds(1);
  cfg.retries = 2;
  sched.addTarget(kA, cfg);
  for (bool ok : {false, true, false, true, false}) {
    ASSERT_EQ(runDue(ok), 1u);
    clock.advance(seconds(1));
  }
  EXPECT_TRUE(transitions.empty());
  EXPECT_EQ(sched.snapshot()[0].consecutive_failures, 1u);
}

TEST_F(SchedulerTest, InitiallyUnhealthyTargetComesUpOnFirstSuccess) {
  TargetConfig cfg;
  cfg.initially_healthy = false;
  sched.addTarget(kA, cfg);
  EXPECT_EQ(sched.healthy(kA), false);
  ASSERT_EQ(runDue(true), 1u);
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_TRUE(transitions[0].healthy);
}

TEST_F(SchedulerTest, ZeroRetriesMeansOneFailure) {
  TargetConfig cfg;
  cfg.retries = 0;
  sched.addTarget(kA, cfg);
  ASSERT_EQ(runDue(false), 1u);
  ASSERT_EQ(transitions.size(), 1u);
}

TEST_F(SchedulerTest, SharedTargetIsProbedOnceAndLivesUntilLastReference) {
  TargetConfig cfg;
  cfg.interval = seconds(10);
  EXPECT_TRUE(sched.addTarget(kA, cfg));
  TargetConfig other = cfg;
  other.interval = seconds(1);
  EXPECT_FALSE(sched.addTarget(kA, other)) << "second rule shares the existing target";
  EXPECT_EQ(sched.size(), 1u);
  EXPECT_EQ(sched.takeDue().size(), 1u);
  auto snap = sched.snapshot();
  EXPECT_EQ(snap[0].refs, 2u);
  EXPECT_EQ(snap[0].interval, seconds(10)) << "first config wins";
  EXPECT_FALSE(sched.removeTarget(kA));
  EXPECT_EQ(sched.size(), 1u);
  EXPECT_TRUE(sched.removeTarget(kA));
  EXPECT_EQ(sched.size(), 0u);
  EXPECT_FALSE(sched.removeTarget(kA));
}

TEST_F(SchedulerTest, RunningTargetIsNotHandedOutTwice) {
  sched.addTarget(kA, TargetConfig{});
  auto jobs = sched.takeDue();
  ASSERT_EQ(jobs.size(), 1u);
  clock.advance(seconds(3600));
  EXPECT_TRUE(sched.takeDue().empty());
  EXPECT_FALSE(sched.nextDue().has_value());
  sched.report(jobs[0], ProbeResult{true, Duration{0}, ""});
  EXPECT_TRUE(sched.nextDue().has_value());
}

TEST_F(SchedulerTest, ResultsForRemovedOrReAddedTargetsAreIgnored) {
  TargetConfig cfg;
  cfg.retries = 1;
  sched.addTarget(kA, cfg);
  auto stale = sched.takeDue();
  ASSERT_EQ(stale.size(), 1u);
  sched.removeTarget(kA);
  sched.report(stale[0], ProbeResult{false, Duration{0}, ""});  // target gone: no crash, no event
  sched.addTarget(kA, cfg);
  sched.report(stale[0], ProbeResult{false, Duration{0}, ""});  // new generation: ignored
  EXPECT_TRUE(transitions.empty());
  EXPECT_EQ(sched.healthy(kA), true);
  EXPECT_EQ(sched.takeDue().size(), 1u) << "the re-added target is not stuck as running";
}

TEST_F(SchedulerTest, SetIntervalAndRetries) {
  TargetConfig cfg;
  cfg.interval = seconds(60);
  cfg.retries = 5;
  sched.addTarget(kA, cfg);
  runDue(true);
  ASSERT_TRUE(sched.setInterval(kA, seconds(2)).ok());
  clock.advance(seconds(2));
  EXPECT_EQ(runDue(false), 1u) << "shorter interval applies without waiting out the old one";
  ASSERT_TRUE(sched.setRetries(kA, 2).ok());
  clock.advance(seconds(2));
  EXPECT_EQ(runDue(false), 1u);
  EXPECT_EQ(transitions.size(), 1u);
  EXPECT_FALSE(sched.setInterval(kB, seconds(1)).ok());
  EXPECT_FALSE(sched.setRetries(kB, 1).ok());
  EXPECT_FALSE(sched.setInterval(kA, Duration{0}).ok());
}

TEST_F(SchedulerTest, IndependentTargets) {
  TargetConfig cfg;
  cfg.retries = 1;
  sched.addTarget(kA, cfg);
  sched.addTarget(kB, cfg);
  auto jobs = sched.takeDue();
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& j : jobs) sched.report(j, ProbeResult{j.spec.target == kB, Duration{0}, ""});
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].key, kA);
  EXPECT_EQ(sched.healthy(kB), true);
}

TEST_F(SchedulerTest, PingRttStatisticsOverAWindow) {
  const TargetKey ping{Ip4::fromOctets(10, 0, 0, 3), ProbeType::kPing, 0};
  TargetConfig cfg;
  cfg.interval = seconds(1);
  sched.addTarget(ping, cfg);
  for (int ms : {3, 1, 2}) {
    auto jobs = sched.takeDue();
    ASSERT_EQ(jobs.size(), 1u);
    sched.report(jobs[0], ProbeResult{true, std::chrono::milliseconds(ms), ""});
    clock.advance(seconds(1));
  }
  auto s = sched.snapshot()[0];
  EXPECT_EQ(s.name, "10.0.0.3_ping_0");
  EXPECT_EQ(s.min_rtt, std::chrono::milliseconds(1));
  EXPECT_EQ(s.max_rtt, std::chrono::milliseconds(3));
  EXPECT_EQ(s.avg_rtt, std::chrono::milliseconds(2));
  for (int i = 0; i < 12; ++i) {
    sched.report(sched.takeDue().at(0), ProbeResult{true, std::chrono::milliseconds(10), ""});
    clock.advance(seconds(1));
  }
  EXPECT_EQ(sched.snapshot()[0].min_rtt, std::chrono::milliseconds(10)) << "old samples leave the window";
}

TEST_F(SchedulerTest, NoneTypeIsNeverProbed) {
  sched.addTarget(TargetKey{Ip4::fromOctets(10, 0, 0, 4), ProbeType::kNone, 0}, TargetConfig{});
  EXPECT_TRUE(sched.takeDue().empty());
  EXPECT_FALSE(sched.nextDue().has_value());
}

TEST(ProbeTypesTest, NamesAndDurations) {
  EXPECT_EQ(kA.name(), "10.0.0.1_tcp_80");
  EXPECT_EQ(parseProbeType("HTTP").valueOr(ProbeType::kNone), ProbeType::kHttp);
  EXPECT_FALSE(parseProbeType("sctp").ok());
  EXPECT_EQ(goDurationString(Duration{0}), "0s");
  EXPECT_EQ(goDurationString(std::chrono::nanoseconds(950)), "950ns");
  EXPECT_EQ(goDurationString(std::chrono::nanoseconds(1500)), "1.5µs");
  EXPECT_EQ(goDurationString(std::chrono::microseconds(1234)), "1.234ms");
  EXPECT_EQ(goDurationString(std::chrono::milliseconds(1200)), "1.2s");
  EXPECT_EQ(goDurationString(seconds(90)), "1m30s");
  EXPECT_EQ(goDurationString(seconds(3600)), "1h0m0s");
}

}  // namespace
}  // namespace floatlb::health
