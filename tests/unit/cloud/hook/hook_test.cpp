// CloudHook against vpcsim's Ec2Model: the MASTER worker converges and configures the OS side,
// the verify loop re-asserts a stolen EIP, repeated re-assert failures step down, BACKUP makes no
// EC2 call and releases the OS side, the last node cleans up.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cloud/hook/cloud_hook.h"
#include "support/manual_timer.h"
#include "support/routed_world.h"
#include "support/sim_world.h"

namespace floatlb::cloud {
namespace {

using namespace std::chrono_literals;
using aws::testing::SimWorld;
using testing::ManualTimer;

class FakeOs final : public InterfaceConfigurator {
 public:
  explicit FakeOs(SimWorld& w) : w_(w) {}
  Result<std::string> waitForLink(const std::string& mac, Duration) override {
    std::string found;
    w_.transport->withModel([&](sim::Ec2Model& m) {
      for (const auto* e : m.enisOf(w_.id("lb2"))) {
        if (e->mac == mac) found = "eth" + std::to_string(e->attachment->device_index);
      }
    });
    if (found.empty()) return makeError(ErrorCode::kTimeout, "no link with " + mac);
    return found;
  }
  Status configure(const std::string& ifname, const EniOsConfig& c) override {
    std::lock_guard l(mu);
    configured.push_back(ifname + " " + c.address.str() + "/" + std::to_string(c.subnet.prefixLen()) +
                         " gw " + c.subnet.at(1).str() + " src " +
                         (c.sources.empty() ? "" : c.sources.front().str()));
    return okStatus();
  }
  Status release(const std::string& ifname, const EniOsConfig&) override {
    std::lock_guard l(mu);
    released.push_back(ifname);
    return okStatus();
  }
  std::mutex mu;
  std::vector<std::string> configured, released;

 private:
  SimWorld& w_;
};

// Polls `cond` every 5 ms for up to 10 s (real time: the worker thread runs on its own). The
// worker's own waits (verify interval, retry backoff) only pass when the test fires the ManualTimer.
template <class F>
bool eventually(F&& cond) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// The hook with its defaults (3 s verify interval, 3 failed re-asserts before stepping down).
struct HookFixture {
  explicit HookFixture(SimWorld& w) : os(w), timer(w.clock) {
    CloudHookConfig cfg;
    cfg.goal = w.goal("lb2");
    cfg.goal.vips.clear();
    const std::string eip = w.eip();
    hook = std::make_unique<CloudHook>(
        cfg, *w.client, w.clock, w.sleeper, &os,
        [eip] {
          return std::vector<takeover::VipEip>{{Ip4::parse(aws::testing::kVip).value(), eip}};
        },
        [this](const std::string& why, bool) {
          std::lock_guard l(mu);
          step_downs.push_back(why);
        },
        &timer);
  }
  FakeOs os;
  ManualTimer timer;
  std::mutex mu;
  std::vector<std::string> step_downs;
  std::unique_ptr<CloudHook> hook;
};

TEST(CloudHook, MasterConvergesAndConfiguresTheInterface) {
  SimWorld w(2s, false);
  HookFixture f(w);
  ASSERT_TRUE(f.hook->prepare().ok());
  // The datapath is attached to the ENI's interface before the interface is configured (up).
  std::vector<std::string> ready_seen;
  size_t configured_when_ready = 99;
  f.hook->setLinkReady([&](const std::string& ifname) {
    std::lock_guard l(f.os.mu);
    ready_seen.push_back(ifname);
    configured_when_ready = f.os.configured.size();
    return okStatus();
  });
  f.hook->onMaster("test");
  ASSERT_TRUE(eventually([&] { return f.hook->status().converged; })) << f.hook->status().lastError;
  EXPECT_EQ(f.hook->status().ifname, "eth1");
  {
    std::lock_guard l(f.os.mu);
    EXPECT_EQ(ready_seen, std::vector<std::string>{"eth1"});
    EXPECT_EQ(configured_when_ready, 0u);
    ASSERT_EQ(f.os.configured.size(), 1u);
    EXPECT_NE(f.os.configured[0].find("/24 gw 192.168.248.1 src 192.168.248.254"), std::string::npos)
        << f.os.configured[0];
  }
  const std::string json = f.hook->timelineJson();
  EXPECT_NE(json.find("\"converged\":true"), std::string::npos) << json;
  EXPECT_NE(f.hook->metricsText().find("floatlb_cloud_converged 1"), std::string::npos);
  // The verify loop: one DescribeAddresses per default interval (3 s of the fake clock).
  int reads = 0;
  w.transport->withModel([&](sim::Ec2Model&) { reads = w.transport->calls["DescribeAddresses"]; });
  const uint64_t waits = f.timer.waits();
  const TimePoint t0 = w.clock.now();
  auto fired = f.timer.fire();
  ASSERT_TRUE(fired.has_value()) << "the worker never waited for the verify interval";
  EXPECT_EQ(*fired, std::chrono::seconds(3));
  ASSERT_TRUE(eventually([&] { return f.timer.waits() == waits + 1; })) << "back to waiting after the tick";
  EXPECT_EQ(f.hook->status().verifies, 1);
  EXPECT_GE(w.clock.now() - t0, std::chrono::seconds(3));
  w.transport->withModel(
      [&](sim::Ec2Model&) { EXPECT_EQ(w.transport->calls["DescribeAddresses"], reads + 1); });
  f.hook->stop();
  w.expectOwnedBy("lb2");
}

TEST(CloudHook, VerifyLoopReassertsAStolenEip) {
  SimWorld w(2s, false);
  HookFixture f(w);
  f.hook->onMaster("test");
  ASSERT_TRUE(eventually([&] { return f.hook->status().converged; }));
  w.transport->withModel([&](sim::Ec2Model& m) {
    const sim::Instance* lb1 = m.instance(w.id("lb1"));
    ASSERT_TRUE(
        m.associateAddress(w.topo.eips.at("eip"), lb1->primary_eni, "", std::nullopt, true, nullptr).ok());
  });
  EXPECT_EQ(f.hook->status().reasserts, 0) << "nothing happens before the verify interval has passed";
  ASSERT_TRUE(f.timer.fire().has_value());
  ASSERT_TRUE(eventually([&] { return f.hook->status().reasserts == 1 && f.hook->status().converged; }));
  f.hook->stop();
  w.expectOwnedBy("lb2");
  EXPECT_TRUE(f.step_downs.empty());
}

TEST(CloudHook, StepsDownWhenTheEipCannotBeHeld) {
  SimWorld w(2s, false);
  HookFixture f(w);
  f.hook->onMaster("test");
  ASSERT_TRUE(eventually([&] { return f.hook->status().converged; }));
  w.transport->withModel([&](sim::Ec2Model& m) {
    sim::FaultRule deny;
    deny.action = "AssociateAddress";
    deny.code = "UnauthorizedOperation";
    deny.http_status = 403;
    m.faults().add(deny);
    const sim::Instance* lb1 = m.instance(w.id("lb1"));
    ASSERT_TRUE(
        m.associateAddress(w.topo.eips.at("eip"), lb1->primary_eni, "", std::nullopt, true, nullptr).ok());
  });
  auto stepped_down = [&] {
    std::lock_guard l(f.mu);
    return !f.step_downs.empty();
  };
  // One failed re-assert per verify tick: the third consecutive one steps down.
  int ticks = 0;
  for (; ticks < 10 && !stepped_down(); ++ticks) {
    const uint64_t waits = f.timer.waits();
    ASSERT_TRUE(f.timer.fire().has_value()) << "tick " << ticks;
    ASSERT_TRUE(eventually([&] { return f.timer.waits() > waits || stepped_down(); }));
  }
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(f.hook->status().stepDowns, 1);
  EXPECT_GE(f.hook->status().failures, 3);
  EXPECT_NE(f.hook->status().lastError.find("cannot hold the Elastic IP"), std::string::npos);
}

TEST(CloudHook, BackupReleasesLocallyWithoutEc2Calls) {
  SimWorld w(2s, false);
  HookFixture f(w);
  f.hook->onMaster("test");
  ASSERT_TRUE(eventually([&] { return f.hook->status().converged; }));
  ASSERT_TRUE(f.timer.awaitWaiting(10s)) << "the verify loop is waiting for its next tick";
  const int before = w.transport->totalCalls();
  f.hook->onBackup();
  // The worker leaves the verify loop and parks until the next MASTER: no timed wait is pending,
  // so no verify tick can ever come (a leaked verify loop would stay in a timed wait).
  ASSERT_TRUE(eventually([&] { return f.hook->status().idle && !f.timer.waiting(); }));
  const int after = w.transport->totalCalls();
  EXPECT_EQ(after, before);
  {
    std::lock_guard l(f.os.mu);
    EXPECT_EQ(f.os.released, std::vector<std::string>{"eth1"});
  }
  EXPECT_FALSE(f.hook->status().master);
  EXPECT_EQ(f.hook->status().ifname, "");
}

TEST(CloudHook, LastNodeShutdownCleansUp) {
  SimWorld w(2s, false);
  HookFixture f(w);
  f.hook->onMaster("test");
  ASSERT_TRUE(eventually([&] { return f.hook->status().converged; }));
  ASSERT_TRUE(f.hook->shutdownLastNode().ok());
  f.hook->stop();
  EXPECT_TRUE(w.taggedEnis().empty());
  EXPECT_TRUE(w.taggedSubnets().empty());
}

// Routed mode: MASTER = one round of route writes; a verify tick that finds the routes on a peer
// with a newer epoch steps down at once and writes nothing against it.
TEST(CloudHookRouted, MasterWritesRoutesInOneRoundAndStepsDownWhenANewerPeerHoldsThem) {
  testing::RoutedWorld w;
  ManualTimer timer(w.clock);
  CloudHookConfig cfg;
  cfg.routed = w.goal();
  std::mutex mu;
  std::vector<std::string> step_downs;
  std::vector<bool> peer_holds;
  CloudHook hook(
      cfg, w.ec2, w.clock, w.sleeper, nullptr, [&] { return cfg.routed->vips; },
      [&](const std::string& why, bool holds) {
        std::lock_guard l(mu);
        step_downs.push_back(why);
        peer_holds.push_back(holds);
      },
      &timer);
  ASSERT_TRUE(hook.prepare().ok()) << hook.status().lastError;
  hook.onMaster("MASTER (epoch 6)", 6);  // the golden gateway table is tagged epoch 7 by the peer
  ASSERT_TRUE(eventually([&] { return hook.status().converged; })) << hook.status().lastError;
  auto tl = hook.lastTimeline();
  ASSERT_TRUE(tl.has_value());
  EXPECT_EQ(tl->mode, "routed");
  EXPECT_EQ(tl->criticalSerialCalls(), 1u) << tl->json();
  EXPECT_EQ(tl->criticalReads(), 0u);
  const size_t first = w.mark();
  ASSERT_TRUE(timer.fire().has_value());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(mu);
    return !step_downs.empty();
  }));
  EXPECT_EQ(hook.status().stepDowns, 1);
  const auto reqs = w.since(first);
  ASSERT_EQ(reqs.size(), 1u) << "one DescribeRouteTables, no write against the peer";
  EXPECT_EQ(reqs[0].action, "DescribeRouteTables");
  EXPECT_NE(step_downs[0].find("eni-0aaaaaaaaaaaaaaa1"), std::string::npos) << step_downs[0];
  EXPECT_TRUE(peer_holds[0]) << "the peer holds the routes: HA must hold this node in BACKUP";
  hook.stop();
}

}  // namespace
}  // namespace floatlb::cloud
