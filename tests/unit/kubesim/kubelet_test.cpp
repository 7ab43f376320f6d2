// The netns realisation's pure parts (kube-proxy rules, health checks, pod state machine, image map,
// vpcsim env → Nodes) and the kubelet's reconcile loop against fakes (commands, EC2, processes).
#include "kubesim/kubelet.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/clock.h"

using namespace floatlb;
using namespace floatlb::kubesim;

namespace {

const std::string kNodeA = "ip-192-168-218-10.ap-northeast-3.compute.internal";
const std::string kNodeB = "ip-192-168-228-10.ap-northeast-3.compute.internal";

json lbService(const std::string& etp) {
  return json::parse(R"({"metadata":{"namespace":"default","name":"nginx-lb1"},
    "spec":{"type":"LoadBalancer","clusterIP":"10.100.178.3","externalTrafficPolicy":")" +
                     etp + R"(","healthCheckNodePort":31000,
    "ports":[{"port":55002,"targetPort":80,"nodePort":32403,"protocol":"TCP"}]}})");
}

json slice(std::vector<std::tuple<std::string, std::string, bool>> eps) {
  json s = json::parse(R"({"metadata":{"namespace":"default","name":"nginx-lb1-abcde",
    "labels":{"kubernetes.io/service-name":"nginx-lb1"}},"ports":[{"name":"","port":80,"protocol":"TCP"}],
    "endpoints":[]})");
  for (const auto& [ip, node, ready] : eps)
    s["endpoints"].push_back({{"addresses", {ip}}, {"conditions", {{"ready", ready}}}, {"nodeName", node}});
  return s;
}

TEST(KubeProxy, LocalPolicyOnlyThisNodesEndpointsElseDrop) {
  json svcs = json::array({lbService("Local")});
  json slices = json::array({slice({{"192.168.218.4", kNodeA, true}})});
  auto a = proxyRules(kNodeA, svcs, slices);
  auto b = proxyRules(kNodeB, svcs, slices);
  ASSERT_EQ(a.size(), 2u);  // ClusterIP + NodePort
  EXPECT_EQ(a[1].port, 32403);
  ASSERT_EQ(a[1].endpoints.size(), 1u);
  EXPECT_TRUE(b[1].endpoints.empty());
  EXPECT_EQ(b[0].endpoints.size(), 1u);  // the ClusterIP keeps every endpoint
  std::string ra = nftRuleset(a), rb = nftRuleset(b);
  EXPECT_NE(ra.find("fib daddr type local tcp dport 32403 dnat to 192.168.218.4:80"), std::string::npos)
      << ra;
  EXPECT_EQ(ra.find("masquerade comment"), std::string::npos);
  EXPECT_EQ(ra.find("0x4000 dnat"), std::string::npos);  // Local: client source kept
  EXPECT_NE(rb.find("fib daddr type local tcp dport 32403 drop"), std::string::npos) << rb;
  EXPECT_NE(rb.find("ip daddr 10.100.178.3 tcp dport 55002 dnat to 192.168.218.4:80"), std::string::npos);
  EXPECT_EQ(ra.rfind("table ip kubesim {\n}\ndelete table ip kubesim\n", 0), 0u);  // atomic replace
}

TEST(KubeProxy, ClusterPolicyMasqueradesAndBalancesReadyEndpoints) {
  json svcs = json::array({lbService("Cluster")});
  json slices = json::array({slice(
      {{"192.168.218.4", kNodeA, true}, {"192.168.228.7", kNodeB, true}, {"192.168.228.8", kNodeB, false}})});
  std::string r = nftRuleset(proxyRules(kNodeA, svcs, slices));
  EXPECT_NE(r.find("tcp dport 32403 meta mark set meta mark | 0x4000 dnat to numgen random mod 2 map { 0 : "
                   "192.168.218.4 . 80, 1 : 192.168.228.7 . 80 }"),
            std::string::npos)
      << r;
  EXPECT_EQ(r.find("192.168.228.8"), std::string::npos);  // not ready
}

TEST(KubeProxy, NamedTargetPortResolvedThroughTheSlicePortName) {
  json svc = lbService("Cluster");
  svc["spec"]["ports"][0]["name"] = "http";
  json s = slice({{"192.168.218.4", kNodeA, true}});
  EXPECT_TRUE(serviceEndpoints(svc, svc["spec"]["ports"][0], json::array({s})).empty());
  s["ports"][0]["name"] = "http";
  s["ports"][0]["port"] = 8080;
  auto eps = serviceEndpoints(svc, svc["spec"]["ports"][0], json::array({s}));
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].port, 8080);
}

TEST(KubeProxy, HealthCheckNodePortAnswers200OnlyWithLocalEndpoints) {
  json svcs = json::array({lbService("Local"), lbService("Cluster")});
  svcs[1]["metadata"]["name"] = "other";
  json slices = json::array({slice({{"192.168.218.4", kNodeA, true}})});
  auto a = healthChecks(kNodeA, svcs, slices);
  auto b = healthChecks(kNodeB, svcs, slices);
  ASSERT_EQ(a.size(), 1u);  // Cluster policy has no health-check NodePort
  EXPECT_EQ(a[0].port, 31000);
  EXPECT_EQ(healthCode(a[0]), 200);
  EXPECT_EQ(healthCode(b[0]), 503);
  json body = json::parse(healthBody(a[0]));
  EXPECT_EQ(body["localEndpoints"], 1);
  EXPECT_EQ(body["service"]["name"], "nginx-lb1");
  EXPECT_EQ(json::parse(healthBody(b[0]))["localEndpoints"], 0);
}

// A pod sandbox on node A (VPC IP .4) with one container, nothing observed of it yet.
PodObs sandboxWith(const std::string& name, const std::string& image) {
  PodObs o;
  o.hostIp = "192.168.218.10";
  o.podIp = "192.168.218.4";
  o.sandboxReady = true;
  o.startTime = 1000;
  ContainerObs c;
  c.name = name;
  c.image = image;
  o.containers = {c};
  return o;
}

TEST(PodStatus, PullFailureStaysPendingThenBacksOff) {
  PodObs o = sandboxWith("x", "example.com/nope:1");
  o.containers[0].pullFailed = true;
  o.containers[0].pullFailedAt = 1000;
  json s1 = podStatus(json::object(), o, 1500);
  EXPECT_EQ(s1["phase"], "Pending");
  EXPECT_EQ(s1["containerStatuses"][0]["state"]["waiting"]["reason"], "ErrImagePull");
  EXPECT_EQ(s1["conditions"][2]["status"], "False");
  EXPECT_EQ(s1["conditions"][2]["reason"], "ContainersNotReady");
  json s2 = podStatus(s1, o, 3500);
  EXPECT_EQ(s2["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
  EXPECT_EQ(s2["conditions"][2]["lastTransitionTime"], s1["conditions"][2]["lastTransitionTime"]);
}

TEST(PodStatus, RunningReadyThenCrashLoopWithRestartCount) {
  PodObs o = sandboxWith("web", "nginx:stable");
  o.containers[0].running = true;
  o.containers[0].startedAt = 1000;
  o.containers[0].containerId = "containerd://abc";
  json run = podStatus(json::object(), o, 1000);
  EXPECT_EQ(run["phase"], "Running");
  EXPECT_EQ(run["podIP"], "192.168.218.4");
  EXPECT_EQ(run["containerStatuses"][0]["ready"], true);
  EXPECT_TRUE(run["containerStatuses"][0]["state"].contains("running"));
  EXPECT_EQ(run["conditions"][2]["type"], "Ready");
  EXPECT_EQ(run["conditions"][2]["status"], "True");
  EXPECT_EQ(podStatus(run, o, 99000), run);  // nothing changed ⇒ no write
  o.containers[0].running = false;
  o.containers[0].backingOff = true;
  o.containers[0].exitCode = 1;
  o.containers[0].restartCount = 2;
  json crash = podStatus(run, o, 5000);
  EXPECT_EQ(crash["phase"], "Running");
  EXPECT_EQ(crash["containerStatuses"][0]["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(crash["containerStatuses"][0]["restartCount"], 2);
  EXPECT_EQ(crash["conditions"][2]["status"], "False");
  o.containers[0].backingOff = false;
  o.containers[0].terminated = true;
  o.containers[0].exitCode = 0;
  EXPECT_EQ(podStatus(crash, o, 6000)["phase"], "Succeeded");
}

TEST(PodStatus, RestartRules) {
  EXPECT_TRUE(shouldRestart("Always", 0));
  EXPECT_FALSE(shouldRestart("OnFailure", 0));
  EXPECT_TRUE(shouldRestart("OnFailure", 2));
  EXPECT_FALSE(shouldRestart("Never", 1));
  EXPECT_EQ(restartDelayMs(0, 10000), 10000);
  EXPECT_EQ(restartDelayMs(3, 10000), 80000);
  EXPECT_EQ(restartDelayMs(10, 10000), 300000);
}

TEST(ImageMap, NginxOperatorUnknown) {
  EXPECT_EQ(imageKind("nginx:stable"), ImageKind::kNginx);
  EXPECT_EQ(imageKind("nginx"), ImageKind::kNginx);
  EXPECT_EQ(imageKind("docker.io/library/nginx:1.25"), ImageKind::kNginx);
  EXPECT_EQ(imageKind("ghcr.io/loxilb-io/kube-loxilb:latest"), ImageKind::kOperator);
  EXPECT_EQ(imageKind("nginxx:1"), ImageKind::kUnknown);
  EXPECT_EQ(imageKind("busybox:1"), ImageKind::kUnknown);
}

TEST(VpcsimWorld, NodeInstancesBecomeNodes) {
  auto env = parseEnvFile(
      "VPCSIM_REGION=ap-northeast-3\nVPCSIM_INSTANCE_LB1=i-1\nVPCSIM_NS_LB1=p-lb1\nVPCSIM_IP_LB1=192.168.218."
      "60\n"
      "VPCSIM_ENI_LB1=eni-1\nVPCSIM_INSTANCE_NODE1=i-3\nVPCSIM_NS_NODE1=p-node1\nVPCSIM_IP_NODE1=192.168.218."
      "10\n"
      "VPCSIM_ENI_NODE1=eni-3\n");
  auto nodes = vpcsimNodes(env);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].spec.name, kNodeA);
  EXPECT_EQ(nodes[0].spec.instanceId, "i-3");
  EXPECT_EQ(nodes[0].netns, "p-node1");
  EXPECT_EQ(nodes[0].eni, "eni-3");
  EXPECT_EQ(nodes[0].spec.maxPods, 5);
}

// ---- the reconcile loop against fakes ----

struct FakeCmd : sim::CommandRunner {
  std::vector<std::string> log;
  std::string lastNft;
  Status run(const std::vector<std::string>& argv, const std::string& in) override {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    log.push_back(s);
    if (s.find("nft -f -") != std::string::npos) lastNft = in;
    return okStatus();
  }
  bool ran(const std::string& prefix) const {
    for (const auto& l : log)
      if (l.rfind(prefix, 0) == 0) return true;
    return false;
  }
};

struct FakeIps : PodIpAllocator {
  int next = 4;
  std::vector<std::string> assigned, released;
  Result<std::string> assign(const std::string& eni) override {
    std::string ip = "192.168.218." + std::to_string(next++);
    assigned.push_back(eni + " " + ip);
    return ip;
  }
  Status release(const std::string& eni, const std::string& ip) override {
    released.push_back(eni + " " + ip);
    return okStatus();
  }
};

struct FakeProcs : ProcessRuntime {
  pid_t next = 100;
  std::map<pid_t, std::vector<std::string>> started;
  std::map<pid_t, int> exits;
  std::vector<pid_t> stopped;
  Result<pid_t> start(const std::string&, const std::vector<std::string>& argv,
                      const std::vector<std::string>& env, const std::string&) override {
    started[next] = argv;
    started[next].insert(started[next].end(), env.begin(), env.end());
    return next++;
  }
  std::optional<int> exited(pid_t pid) override {
    auto it = exits.find(pid);
    if (it == exits.end()) return std::nullopt;
    return it->second;
  }
  void stop(pid_t pid, std::chrono::milliseconds) override { stopped.push_back(pid); }
};

struct FakeHealth : HealthListeners {
  std::map<std::string, std::vector<HealthCheck>> sets;
  void set(const std::string& node, const std::string&, const std::vector<HealthCheck>& hcs) override {
    sets[node] = hcs;
  }
};

class KubeletLoop : public ::testing::Test {
 protected:
  FakeClock clock;
  ApiConfig cfg = [] {
    ApiConfig c;
    c.seed = 3;
    c.recordKubelet = false;
    return c;
  }();
  ApiServer api{clock, cfg};
  FakeCmd cmd;
  FakeIps ips;
  FakeProcs procs;
  FakeHealth health;
  std::string dir = testing::TempDir() + "kubelet_test_" + std::to_string(getpid());
  std::unique_ptr<NetnsKubelet> kubelet;

  void SetUp() override {
    KubeletNode n;
    n.spec.name = kNodeA;
    n.spec.ip = "192.168.218.10";
    n.spec.az = "ap-northeast-3a";
    n.spec.instanceId = "i-3";
    n.netns = "t-node1";
    n.eni = "eni-3";
    KubeletConfig kc{"t-", dir, "/opt/kube-floatlb", "/nonexistent/ca.crt", dir + "/tokens"};
    kc.restartBaseMs = 1000;
    kubelet =
        std::make_unique<NetnsKubelet>(api, clock, cmd, ips, procs, health, kc, std::vector<KubeletNode>{n});
    ASSERT_TRUE(kubelet->setup().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  Response call(const std::string& method, const std::string& path, const std::string& body = "") {
    return api.handle(Request{method, path, {}, "application/json", "application/json", "test", body});
  }
  json pod() { return json::parse(call("GET", "/api/v1/namespaces/default/pods/nginx-test").body); }
};

TEST_F(KubeletLoop, PodRunsWithAVpcIpAndIsTornDownOnDelete) {
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/services",
                 R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"nginx-lb1"},
       "spec":{"externalTrafficPolicy":"Local","selector":{"what":"nginx-test"},
       "ports":[{"port":55002,"targetPort":80}],"type":"LoadBalancer"}})")
                .code,
            201);
  ASSERT_EQ(
      call("POST", "/api/v1/namespaces/default/pods",
           R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-test","labels":{"what":"nginx-test"}},
       "spec":{"containers":[{"name":"nginx-test","image":"nginx:stable","ports":[{"containerPort":80}]}]}})")
          .code,
      201);
  kubelet->sync();
  json p = pod();
  EXPECT_EQ(p["status"]["phase"], "Running");
  EXPECT_EQ(p["status"]["podIP"], "192.168.218.4");
  EXPECT_EQ(p["status"]["hostIP"], "192.168.218.10");
  ASSERT_EQ(ips.assigned, std::vector<std::string>{"eni-3 192.168.218.4"});
  EXPECT_TRUE(cmd.ran("ip netns add t-p-"));
  EXPECT_TRUE(cmd.ran("ip -n t-node1 route replace 192.168.218.4/32 dev ksv"));
  ASSERT_EQ(procs.started.size(), 1u);
  const auto& argv = procs.started.begin()->second;
  EXPECT_EQ(argv[0], "/usr/sbin/nginx");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "KUBERNETES_SERVICE_HOST=10.100.0.1"), argv.end());
  std::string conf = dir + "/pods/default_nginx-test_" +
                     p["metadata"]["uid"].get<std::string>().substr(0, 8) + "/nginx-test/nginx.conf";
  EXPECT_TRUE(std::filesystem::exists(conf));
  // kube-proxy: the slice controller ran on the status write; the NodePort DNATs to the pod.
  kubelet->sync();
  int np = json::parse(
      call("GET", "/api/v1/namespaces/default/services/nginx-lb1").body)["spec"]["ports"][0]["nodePort"];
  EXPECT_NE(cmd.lastNft.find("tcp dport " + std::to_string(np) + " dnat to 192.168.218.4:80"),
            std::string::npos)
      << cmd.lastNft;
  ASSERT_EQ(health.sets[kNodeA].size(), 1u);
  EXPECT_EQ(health.sets[kNodeA][0].localEndpoints, 1);

  // The container exits: restarted after the back-off, restartCount 1.
  pid_t first = procs.started.begin()->first;
  procs.exits[first] = 1;
  kubelet->sync();
  EXPECT_EQ(pod()["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "CrashLoopBackOff");
  clock.advance(std::chrono::milliseconds(1100));
  kubelet->sync();
  json again = pod();
  EXPECT_EQ(again["status"]["containerStatuses"][0]["restartCount"], 1);
  EXPECT_EQ(again["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(procs.started.size(), 2u);

  // Graceful delete: the kubelet stops the container, removes the namespace and the IP, finishes it.
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/nginx-test").code, 200);
  kubelet->sync();
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/nginx-test").code, 404);
  EXPECT_EQ(procs.stopped.size(), 1u);
  EXPECT_TRUE(cmd.ran("ip netns del t-p-"));
  EXPECT_EQ(ips.released, std::vector<std::string>{"eni-3 192.168.218.4"});
  kubelet->sync();
  EXPECT_EQ(health.sets[kNodeA][0].localEndpoints, 0);
}

TEST_F(KubeletLoop, UnknownImageIsErrImagePullAndNeverStarted) {
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods",
                 R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-test"},
       "spec":{"containers":[{"name":"c","image":"example.com/nope:1"}]}})")
                .code,
            201);
  kubelet->sync();
  json p = pod();
  EXPECT_EQ(p["status"]["phase"], "Pending");
  EXPECT_EQ(p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ErrImagePull");
  EXPECT_TRUE(procs.started.empty());
  clock.advance(std::chrono::seconds(3));
  kubelet->sync();
  EXPECT_EQ(pod()["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
}

}  // namespace
