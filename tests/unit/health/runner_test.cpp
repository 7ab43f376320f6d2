// ProbeRunner with the FakeProber and the real clock: transitions arrive, a held (slow) probe does
// not delay other targets, removal stops probing. Every wait polls a condition with a deadline.
#include "health/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "health/fake_prober.h"

namespace floatlb::health {
namespace {

using std::chrono::milliseconds;

const TargetKey kSlow{Ip4::fromOctets(10, 0, 0, 1), ProbeType::kUdp, 53};
const TargetKey kFast{Ip4::fromOctets(10, 0, 0, 2), ProbeType::kTcp, 80};

template <class Pred>
bool waitUntil(Pred pred, milliseconds limit = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return pred();
}

struct Recorder {
  std::mutex mu;
  std::vector<Transition> seen;
  void add(const Transition& t) {
    std::lock_guard lock(mu);
    seen.push_back(t);
  }
  size_t count() {
    std::lock_guard lock(mu);
    return seen.size();
  }
  std::vector<Transition> all() {
    std::lock_guard lock(mu);
    return seen;
  }
};

TEST(RunnerTest, SlowProbeDoesNotDelayOthers) {
  SteadyClock clock;
  FakeProber prober;
  Recorder rec;
  prober.hold(kSlow);
  prober.setResult(kFast, false);
  ProbeRunner runner(
      clock, prober, [&](const Transition& t) { rec.add(t); }, RunnerOptions{2});
  TargetConfig cfg;
  cfg.interval = milliseconds(10);
  cfg.retries = 2;
  runner.addTarget(kSlow, cfg);
  runner.addTarget(kFast, cfg);
  runner.start();
  ASSERT_TRUE(waitUntil([&] { return rec.count() >= 1; })) << "fast target never went down";
  auto seen = rec.all();
  EXPECT_EQ(seen[0].key, kFast);
  EXPECT_FALSE(seen[0].healthy);
  ASSERT_TRUE(waitUntil([&] { return prober.calls(kSlow) >= 1; }));
  EXPECT_EQ(prober.calls(kSlow), 1) << "the held probe is still running, not re-issued";
  EXPECT_GE(prober.calls(kFast), 2);
  prober.setResult(kFast, true);
  ASSERT_TRUE(waitUntil([&] { return rec.count() >= 2; }));
  EXPECT_TRUE(rec.all()[1].healthy);
  prober.release(kSlow);
  ASSERT_TRUE(waitUntil([&] { return prober.calls(kSlow) >= 2; })) << "released target is probed again";
  runner.stop();
}

TEST(RunnerTest, RemovedTargetStopsBeingProbedAndSnapshotWorks) {
  SteadyClock clock;
  FakeProber prober;
  ProbeRunner runner(clock, prober, nullptr);
  TargetConfig cfg;
  cfg.interval = milliseconds(5);
  runner.addTarget(kFast, cfg);
  runner.start();
  ASSERT_TRUE(waitUntil([&] { return prober.calls(kFast) >= 3; }));
  auto snap = runner.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].name, "10.0.0.2_tcp_80");
  EXPECT_TRUE(runner.removeTarget(kFast));
  EXPECT_TRUE(runner.snapshot().empty());
  // Let any probe that was already running finish, then check that no new one starts.
  int after = prober.calls(kFast);
  EXPECT_FALSE(waitUntil([&] { return prober.calls(kFast) > after + 1; }, milliseconds(100)));
  runner.stop();
}

TEST(RunnerTest, CallbackMayCallBackIntoTheRunner) {
  SteadyClock clock;
  FakeProber prober;
  prober.setResult(kFast, false);
  std::atomic<size_t> snapshot_size{0};
  ProbeRunner* self = nullptr;
  ProbeRunner runner(clock, prober, [&](const Transition&) { snapshot_size = self->snapshot().size(); });
  self = &runner;
  TargetConfig cfg;
  cfg.retries = 1;
  runner.addTarget(kFast, cfg);
  runner.start();
  EXPECT_TRUE(waitUntil([&] { return snapshot_size.load() == 1; }));
  runner.stop();
}

TEST(RunnerTest, StopIsIdempotentAndRestartable) {
  SteadyClock clock;
  FakeProber prober;
  ProbeRunner runner(clock, prober, nullptr);
  runner.stop();
  runner.start();
  runner.stop();
  runner.stop();
  TargetConfig cfg;
  cfg.interval = milliseconds(5);
  runner.addTarget(kFast, cfg);
  runner.start();
  EXPECT_TRUE(waitUntil([&] { return prober.calls(kFast) >= 1; }));
}

}  // namespace
}  // namespace floatlb::health
