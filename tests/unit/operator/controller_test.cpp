// The reconciler against in-memory fakes of the API and two floatlb instances (§4.2 cases that
// need no real API server), driven by a FakeClock.
#include "operator/controller.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace floatlb::kube {
namespace {

using k8s::Json;
using testing::FakeKube;
using testing::FakeLb;

Options seedOptions() {
  auto r = parseOptions({"--loxiURL=http://192.168.228.108:11111,http://192.168.218.60:11111",
                         "--externalCIDR=198.18.100.10/32", "--privateCIDR=192.168.248.254/32",
                         "--setRoles=0.0.0.0", "--setLBMode=2"});
  return r->options;
}

Json service(const std::string& name, int port, int node_port,
             const std::string& created = "2026-12-01T10:00:00Z") {
  return Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")" + name +
                     R"(","namespace":"default","creationTimestamp":")" + created +
                     R"("},"spec":{"type":"LoadBalancer","loadBalancerClass":"loxilb.io/loxilb",)"
                     R"("externalTrafficPolicy":"Local","selector":{"what":"nginx-test"},)"
                     R"("ports":[{"port":)" +
                     std::to_string(port) + R"(,"protocol":"TCP","targetPort":80,"nodePort":)" +
                     std::to_string(node_port) +
                     R"(}]},"status":{"loadBalancer":{}},"x-unknown":{"kept":true}})");
}

Json node(const std::string& name, const std::string& ip) {
  return Json::parse(R"({"metadata":{"name":")" + name +
                     R"("},"status":{"conditions":[{"type":"Ready","status":"True"}],)"
                     R"("addresses":[{"type":"InternalIP","address":")" +
                     ip + R"("}]}})");
}

Json slice(const std::string& svc, const std::string& node_name, bool ready = true) {
  return Json::parse(R"({"metadata":{"name":")" + svc +
                     R"(-x1","namespace":"default","labels":)"
                     R"({"kubernetes.io/service-name":")" +
                     svc +
                     R"("}},"addressType":"IPv4","endpoints":[{"addresses":)"
                     R"(["192.168.218.77"],"conditions":{"ready":)" +
                     (ready ? std::string("true") : "false") + R"(},"nodeName":")" + node_name +
                     R"("}],"ports":[{"port":80,"protocol":"TCP"}]})");
}

struct World {
  FakeClock clock;
  FakeKube kube;
  FakeLb lb{2};
  std::unique_ptr<Controller> c;
  Options opts = seedOptions();

  void start() {
    c = std::make_unique<Controller>(opts, clock, lb);
    c->nodeChanged(node("node1", "192.168.218.10"));
    c->nodeChanged(node("node2", "192.168.228.10"));
    kube.deliver(*c);
    c->setSynced();
  }
  // The instance workers, inline: every queued LbOp is answered by the fake instances.
  // The Kubernetes writers too, against the fake API.
  void pump() {
    for (int round = 0; round < 100; ++round) {
      auto ops = c->takeLbOps();
      auto writes = c->takeKubeOps();
      if (ops.empty() && writes.empty()) return;
      for (auto& op : ops) {
        HttpReply rep = lb.request(op.instance, op.method, op.path, op.body, op.timeout);
        c->lbDone({std::move(op), std::move(rep)});
      }
      for (auto& w : writes) c->kubeDone(performKubeOp(kube, std::move(w)));
    }
  }
  // Runs the controller until nothing is due, feeding writes back as the watch would.
  void settle(int rounds = 10) {
    for (int i = 0; i < rounds; ++i) {
      kube.deliver(*c);
      TimePoint next = c->step();
      pump();
      kube.deliver(*c);
      if (next > clock.now())
        clock.advance(std::min<Duration>(next - clock.now(), std::chrono::milliseconds(250)));
    }
  }
  void advance(Duration d) {
    TimePoint end = clock.now() + d;
    while (clock.now() < end) {
      kube.deliver(*c);
      c->step();
      pump();
      clock.advance(std::chrono::milliseconds(100));
    }
    kube.deliver(*c);
  }
  Json& svc(const std::string& name) { return kube.services.at("default/" + name); }
  std::string ingress(const std::string& name) { return k8s::dump(svc(name)["status"]["loadBalancer"]); }
};

TEST(Controller, SeedServiceProgrammedOnBothInstancesWithHostnameStatus) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(w.lb.inst[i].rules.size(), 1u) << i;
    const Json& r = w.lb.inst[i].rules.begin()->second;
    EXPECT_EQ(r["serviceArguments"]["externalIP"], "198.18.100.10");
    EXPECT_EQ(r["serviceArguments"]["privateIP"], "192.168.248.254");
    EXPECT_EQ(r["serviceArguments"]["mode"], 2);
    EXPECT_EQ(r["serviceArguments"]["name"], "default_nginx-lb1:llb-inst0");
    ASSERT_EQ(r["endpoints"].size(), 1u);
    EXPECT_EQ(r["endpoints"][0]["endpointIP"], "192.168.218.10");  // ETP Local: the pod's node only
    EXPECT_EQ(r["endpoints"][0]["targetPort"], 31634);
  }
  EXPECT_EQ(w.ingress("nginx-lb1"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  EXPECT_EQ(w.svc("nginx-lb1")["metadata"]["finalizers"][0], "service.kubernetes.io/load-balancer-cleanup");
  EXPECT_TRUE(w.svc("nginx-lb1")["x-unknown"]["kept"].get<bool>());  // unknown fields round-trip
  EXPECT_TRUE(w.kube.hasEvent("EnsuredLoadBalancer"));
  // Roles by --setRoles: the first URL is MASTER.
  EXPECT_EQ(w.lb.inst[0].cistate["llb-inst0"], "MASTER");
  EXPECT_EQ(w.lb.inst[1].cistate["llb-inst0"], "BACKUP");
}

TEST(Controller, RestartKeepsAddressDeletesNothingAndLeavesStatusAlone) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.kube.put(service("other", 8080, 31000, "2026-12-01T11:00:00Z"));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.c->sliceChanged(slice("other", "node2"));
  w.settle();
  ASSERT_EQ(w.lb.inst[0].rules.size(), 2u);
  int writes = w.kube.status_writes, updates = w.kube.updates;
  // kill -9: a new controller with the same API and instances.
  w.lb.inst[0].log.clear();
  w.lb.inst[1].log.clear();
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.c->sliceChanged(slice("other", "node2"));
  w.advance(std::chrono::seconds(3));
  EXPECT_EQ(w.kube.status_writes, writes);
  EXPECT_EQ(w.kube.updates, updates);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(w.lb.count(i, "DELETE"), 0u);
    EXPECT_EQ(w.lb.count(i, "POST /netlox/v1/config/loadbalancer"),
              0u);  // the drift read showed them present
    EXPECT_EQ(w.lb.inst[i].rules.size(), 2u);
  }
  EXPECT_EQ(w.c->addressOf("default/nginx-lb1")->str(), "198.18.100.10");
  EXPECT_EQ(w.lb.count(0, "POST /netlox/v1/config/cistate"), 0u);  // adopted the existing MASTER
}

TEST(Controller, ExhaustionPendingWithWarningThenReleaseGivesTheAddress) {
  World w;
  w.kube.put(service("first", 55002, 31634));
  w.kube.put(service("second", 55002, 31635, "2026-12-01T11:00:00Z"));
  w.start();
  w.c->sliceChanged(slice("first", "node1"));
  w.c->sliceChanged(slice("second", "node1"));
  w.settle();
  EXPECT_EQ(w.ingress("first"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  EXPECT_EQ(w.ingress("second"), "{}");
  EXPECT_EQ(w.kube.eventMessage("IPAllocationFailed"), "no free address in pool defaultPool (1 of 1 used)");
  // Delete the first (kubectl delete: deletionTimestamp + finalizer).
  w.svc("first")["metadata"]["deletionTimestamp"] = "2026-12-01T12:00:00Z";
  w.settle();
  EXPECT_EQ(w.kube.services.count("default/first"), 0u);  // finalizer removed -> gone
  w.c->serviceDeleted("default/first");
  w.settle();
  EXPECT_EQ(w.ingress("second"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(w.lb.inst[i].rules.size(), 1u);
    EXPECT_EQ(w.lb.inst[i].rules.begin()->second["serviceArguments"]["name"], "default_second:llb-inst0");
  }
}

TEST(Controller, DriftRepostsLostRulesAndDeletesOrphans) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  // lb2 restarts with an empty table (faster than a probe); someone left an orphan of ours on lb1.
  w.lb.inst[1].rules.clear();
  Json orphan = w.lb.inst[0].rules.begin()->second;
  orphan["serviceArguments"]["port"] = 9999;
  orphan["serviceArguments"]["name"] = "default_gone:llb-inst0";
  w.lb.inst[0].rules["198.18.100.10:9999/tcp"] = orphan;
  Json foreign = orphan;
  foreign["serviceArguments"]["name"] = "manual";
  foreign["serviceArguments"]["port"] = 7777;
  w.lb.inst[0].rules["198.18.100.10:7777/tcp"] = foreign;
  int writes = w.kube.status_writes;
  w.advance(std::chrono::seconds(11));
  EXPECT_EQ(w.lb.inst[1].rules.size(), 1u);
  EXPECT_EQ(w.lb.inst[0].rules.count("198.18.100.10:9999/tcp"), 0u);
  EXPECT_EQ(w.lb.inst[0].rules.count("198.18.100.10:7777/tcp"), 1u);  // not ours: untouched
  EXPECT_EQ(w.kube.status_writes, writes);                            // no Kubernetes write
  EXPECT_GE(w.c->stats().drift_reposts, 1u);
}

TEST(Controller, InstanceDownDuringCreateAndDelete) {
  World w;
  w.lb.inst[1].down = true;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  EXPECT_EQ(w.lb.inst[0].rules.size(), 1u);
  EXPECT_EQ(w.ingress("nginx-lb1"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  w.lb.inst[1].down = false;
  w.advance(std::chrono::seconds(3));  // next probe: alive -> every missing rule pushed
  EXPECT_EQ(w.lb.inst[1].rules.size(), 1u);
  // Down during delete: the delete completes, the orphan goes when lb2 returns.
  w.lb.inst[1].down = true;
  w.advance(std::chrono::seconds(3));
  w.svc("nginx-lb1")["metadata"]["deletionTimestamp"] = "2026-12-01T12:00:00Z";
  w.settle();
  EXPECT_EQ(w.kube.services.count("default/nginx-lb1"), 0u);
  w.c->serviceDeleted("default/nginx-lb1");
  EXPECT_EQ(w.lb.inst[0].rules.size(), 0u);
  EXPECT_EQ(w.lb.inst[1].rules.size(), 1u);
  w.lb.inst[1].down = false;
  w.advance(std::chrono::seconds(12));
  EXPECT_EQ(w.lb.inst[1].rules.size(), 0u);
}

TEST(Controller, TypeChangeAwayFromLoadBalancerCleansUp) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  Json& s = w.svc("nginx-lb1");
  s["spec"]["type"] = "ClusterIP";
  s["spec"].erase("loadBalancerClass");
  w.settle();
  EXPECT_EQ(w.lb.inst[0].rules.size(), 0u);
  EXPECT_EQ(w.lb.inst[1].rules.size(), 0u);
  EXPECT_EQ(w.ingress("nginx-lb1"), "{}");
  EXPECT_TRUE(w.svc("nginx-lb1")["metadata"]["finalizers"].empty());
  EXPECT_FALSE(w.c->addressOf("default/nginx-lb1"));
}

TEST(Controller, ClasslessAndOtherClassIgnoredWithoutCrash) {
  World w;
  Json a = service("noclass", 80, 30001);
  a["spec"].erase("loadBalancerClass");
  Json b = service("other", 81, 30002);
  b["spec"]["loadBalancerClass"] = "example.com/other";
  Json junk = service("junk", 82, 30003);
  junk["spec"]["ports"] = "not-a-list";
  junk["metadata"]["annotations"] = 7;
  w.kube.put(a);
  w.kube.put(b);
  w.kube.put(junk);
  w.start();
  w.settle();
  EXPECT_EQ(w.lb.inst[0].rules.size(), 0u);
  EXPECT_EQ(w.kube.status_writes, 0);
  EXPECT_EQ(w.kube.updates, 0);
}

TEST(Controller, FinalizerConflictIsRetriedWithAFreshRead) {
  World w;
  w.kube.conflicts = 2;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  EXPECT_EQ(w.svc("nginx-lb1")["metadata"]["finalizers"][0], "service.kubernetes.io/load-balancer-cleanup");
  EXPECT_EQ(w.lb.inst[0].rules.size(), 1u);
}

TEST(Controller, EndpointMoveReachesTheRuleAndZeroEndpointsKeepsTheAddress) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.settle();
  w.c->sliceChanged(slice("nginx-lb1", "node1", false));  // pod deleted: nothing ready
  w.advance(std::chrono::milliseconds(400));
  EXPECT_EQ(w.lb.inst[0].rules.size(), 0u);
  EXPECT_EQ(w.ingress("nginx-lb1"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  w.c->sliceChanged(slice("nginx-lb1", "node2"));  // re-created on the other node
  w.advance(std::chrono::milliseconds(400));
  ASSERT_EQ(w.lb.inst[0].rules.size(), 1u);
  EXPECT_EQ(w.lb.inst[0].rules.begin()->second["endpoints"][0]["endpointIP"], "192.168.228.10");
}

TEST(Controller, ConflictingStaticIPs) {
  World w;
  Json a = service("a", 80, 30001);
  a["metadata"]["annotations"]["loxilb.io/staticIP"] = "198.18.100.20";
  Json b = service("b", 80, 30002, "2026-12-01T11:00:00Z");
  b["metadata"]["annotations"]["loxilb.io/staticIP"] = "198.18.100.20";
  Json c = service("c", 81, 30003);
  c["metadata"]["annotations"]["loxilb.io/staticIP"] = "198.18.100.21";
  c["spec"]["loadBalancerIP"] = "198.18.100.22";
  w.kube.put(a);
  w.kube.put(b);
  w.kube.put(c);
  w.start();
  for (auto n : {"a", "b", "c"}) w.c->sliceChanged(slice(n, "node1"));
  w.settle();
  EXPECT_EQ(w.ingress("a"), R"({"ingress":[{"hostname":"llb-198.18.100.20"}]})");
  EXPECT_EQ(w.ingress("b"), "{}");
  EXPECT_NE(w.kube.eventMessage("IPInUse").find("default/a"), std::string::npos);
  EXPECT_EQ(w.ingress("c"), "{}");
  EXPECT_TRUE(w.kube.hasEvent("ConflictingStaticIP"));
  // A static Service carries no privateIP.
  EXPECT_EQ(w.lb.inst[0].rules.begin()->second["serviceArguments"]["privateIP"], "");
}

TEST(Controller, PassiveWhenInstancesRunHeartbeatHa) {
  World w;
  w.lb.inst[0].ka = w.lb.inst[1].ka = true;
  w.lb.inst[1].cistate["llb-inst0"] = "MASTER";
  w.lb.inst[0].cistate["llb-inst0"] = "BACKUP";
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.settle();
  EXPECT_TRUE(w.c->passive());
  EXPECT_EQ(w.c->master(), 1u);
  EXPECT_EQ(w.lb.count(0, "POST /netlox/v1/config/cistate"), 0u);
  EXPECT_EQ(w.lb.count(1, "POST /netlox/v1/config/cistate"), 0u);
}

TEST(Controller, MasterDeathReelectsWithinAProbe) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.settle();
  ASSERT_EQ(w.c->master(), 0u);
  w.lb.inst[0].down = true;
  w.advance(std::chrono::milliseconds(2500));
  EXPECT_EQ(w.c->master(), 1u);
  EXPECT_EQ(w.lb.inst[1].cistate["llb-inst0"], "MASTER");
  w.lb.inst[0].down = false;
  w.advance(std::chrono::milliseconds(2500));
  EXPECT_EQ(w.lb.inst[0].cistate["llb-inst0"], "BACKUP");
  EXPECT_EQ(w.c->master(), 1u);
}

TEST(Controller, RejectedRuleIsAWarningAndNotRetriedHot) {
  World w;
  w.lb.inst[0].reject = w.lb.inst[1].reject = "allowedSources (source allow-lists) are not supported yet";
  Json s = service("nginx-lb1", 55002, 31634);
  s["spec"]["loadBalancerSourceRanges"] = {"10.0.0.0/8"};
  w.kube.put(s);
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.advance(std::chrono::seconds(65));  // a full resync included
  EXPECT_NE(w.kube.eventMessage("LBRejected").find("not supported yet"), std::string::npos);
  EXPECT_EQ(w.lb.count(0, "POST /netlox/v1/config/loadbalancer"), 1u);
  EXPECT_EQ(w.ingress("nginx-lb1"), "{}");
}

TEST(Controller, StandbyWritesNothing) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.c = std::make_unique<Controller>(w.opts, w.clock, w.lb);
  w.c->setLeader(false);
  w.c->nodeChanged(node("node1", "192.168.218.10"));
  w.kube.deliver(*w.c);
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.c->setSynced();
  w.advance(std::chrono::seconds(5));
  EXPECT_EQ(w.lb.inst[0].rules.size(), 0u);
  EXPECT_EQ(w.kube.updates + w.kube.status_writes, 0);
  EXPECT_EQ(w.lb.count(0, "POST"), 0u);
  w.c->setLeader(true);
  w.advance(std::chrono::seconds(1));
  EXPECT_EQ(w.lb.inst[0].rules.size(), 1u);
}

TEST(Controller, AHungInstanceDelaysOnlyItself) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  std::vector<LbOp> held;  // instance 1's requests: sent, never answered
  for (int i = 0; i < 30; ++i) {
    w.kube.deliver(*w.c);
    w.c->step();
    for (int round = 0; round < 20; ++round) {
      auto ops = w.c->takeLbOps();
      auto writes = w.c->takeKubeOps();
      if (ops.empty() && writes.empty()) break;
      for (auto& op : ops) {
        if (op.instance == 1) {
          held.push_back(op);
          continue;
        }
        HttpReply rep = w.lb.request(op.instance, op.method, op.path, op.body, op.timeout);
        w.c->lbDone({op, rep});
      }
      for (auto& k : writes) w.c->kubeDone(performKubeOp(w.kube, std::move(k)));
    }
    w.clock.advance(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(w.lb.inst[0].rules.size(), 1u);
  EXPECT_EQ(w.ingress("nginx-lb1"), R"({"ingress":[{"hostname":"llb-198.18.100.10"}]})");
  EXPECT_TRUE(w.lb.inst[1].rules.empty());
  EXPECT_FALSE(held.empty());
  for (const auto& op : held)
    EXPECT_NE(op.kind, LbOp::kPost);  // its list never came back: nothing sent blind
}

TEST(Controller, FailingInstanceBacksOffExponentiallyAndRetryAfterIsHonoured) {
  World w;
  w.kube.put(service("nginx-lb1", 55002, 31634));
  w.start();
  w.c->sliceChanged(slice("nginx-lb1", "node1"));
  w.lb.inst[0].fail_posts = 1000;
  w.advance(std::chrono::seconds(10));
  // 1 s, 2 s, 4 s (+ up to 10 % each): the first POST and 3 retries in 10 s, not one per step.
  size_t posts = w.lb.count(0, "POST /netlox/v1/config/loadbalancer");
  EXPECT_GE(posts, 3u);
  EXPECT_LE(posts, 5u);
  EXPECT_EQ(w.c->limiter().backingOff(), 1u);
  w.lb.inst[0].fail_posts = 0;
  w.advance(std::chrono::seconds(10));
  EXPECT_EQ(w.lb.inst[0].rules.size(), 1u);
  EXPECT_EQ(w.c->limiter().backingOff(), 0u);  // forgotten once converged

  // 429 + Retry-After: 7 => no retry before 7 s.
  Json s = w.svc("nginx-lb1");
  s["metadata"]["annotations"] = {{"loxilb.io/timeout", "900"}};
  w.kube.put(s);
  w.lb.inst[1].throttle_posts = 1;
  size_t before = w.lb.count(1, "POST /netlox/v1/config/loadbalancer");
  w.advance(std::chrono::seconds(6));
  EXPECT_EQ(w.lb.count(1, "POST /netlox/v1/config/loadbalancer"), before + 1);
  w.advance(std::chrono::seconds(3));
  EXPECT_EQ(w.lb.count(1, "POST /netlox/v1/config/loadbalancer"), before + 2);
  EXPECT_EQ(w.lb.inst[1].rules.begin()->second["serviceArguments"]["inactiveTimeOut"], 900);
  EXPECT_EQ(w.c->limiter().throttled(), 1u);
  MetricsWriter m;
  w.c->appendMetrics(m);
  EXPECT_NE(m.str().find("kube_floatlb_reconcile_retry_after_total 1"), std::string::npos);
  EXPECT_NE(m.str().find("kube_floatlb_lb_throttled_total 1"), std::string::npos);
}

}  // namespace
}  // namespace floatlb::kube
