// ApiRouter over fakes: every route, the delete forms of loxilb's api/swagger.yml, bearer-token
// authentication, errors as HTTP statuses, and /metrics through the one MetricsWriter.
#include "api/router.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "support/api_fakes.h"

namespace floatlb::api {
namespace {

using floatlb::testing::ApiWorld;

std::string ruleBody(const std::string& vip, int port, const std::string& proto = "tcp") {
  return R"({"serviceArguments":{"externalIP":")" + vip + R"(","port":)" + std::to_string(port) +
         R"(,"protocol":")" + proto +
         R"(","sel":0,"mode":0,"name":"svc1"},"endpoints":[{"endpointIP":"10.1.0.2","targetPort":8080,"weight":1}]})";
}

ApiRequest req(std::string method, std::string path, std::string body = "") {
  ApiRequest r;
  r.method = std::move(method);
  auto q = path.find('?');
  if (q != std::string::npos) {
    std::stringstream ss(path.substr(q + 1));
    std::string kv;
    while (std::getline(ss, kv, '&')) {
      auto eq = kv.find('=');
      r.query[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    path.resize(q);
  }
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  ApiWorld world;
  ApiRouter router{world.deps()};

  ApiResponse call(const std::string& method, const std::string& path, const std::string& body = "") {
    return router.handle(req(method, path, body));
  }
  void create(const std::string& vip, int port) {
    auto r = call("POST", "/netlox/v1/config/loadbalancer", ruleBody(vip, port));
    ASSERT_EQ(r.status, 200) << r.body;
  }
};

TEST_F(RouterTest, LivenessAndVersion) {
  auto live = call("GET", "/netlox/v1");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, R"({"result":"Success"})");
  EXPECT_EQ(call("GET", "/netlox/v1/").status, 200);
  EXPECT_EQ(call("GET", "/netlox/v1/version").body,
            std::string(R"({"version":")") + projectVersion() + R"(","buildInfo":"floatlb-test"})");
}

TEST_F(RouterTest, CreateListDeleteAll) {
  create("20.20.20.1", 2020);
  EXPECT_EQ(world.store.saved.size(), 1u);
  auto list = call("GET", "/netlox/v1/config/loadbalancer/all");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("20.20.20.1"), std::string::npos);
  auto again = call("POST", "/netlox/v1/config/loadbalancer", ruleBody("20.20.20.1", 2020));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(call("DELETE", "/netlox/v1/config/loadbalancer/all").status, 200);
  EXPECT_EQ(world.rules.size(), 0u);
}

// Each form of the swagger file, with the exact paths loxicmd 0.9.8.3 and kube-loxilb send.
TEST_F(RouterTest, EveryDeleteFormOfTheReference) {
  const std::vector<std::string> paths = {
      "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp",
      "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp?bgp=false&block=0",
      "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/portmax/0/protocol/tcp?block=0",
      "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/portmax/2020/protocol/tcp",
      "/netlox/v1/config/loadbalancer/hosturl/any/externalipaddress/20.20.20.1/port/2020/protocol/"
      "tcp?bgp=false",
      "/netlox/v1/config/loadbalancer/hosturl/any/externalipaddress/20.20.20.1/port/2020/portmax/0/protocol/"
      "tcp?bgp=false&block=0",
  };
  for (const auto& path : paths) {
    create("20.20.20.1", 2020);
    auto r = call("DELETE", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(world.rules.size(), 0u) << path;
    auto gone = call("DELETE", path);
    EXPECT_EQ(gone.status, 404) << path << ": " << gone.body;
  }
}

TEST_F(RouterTest, DeleteFormsRefuseWhatFloatlbDoesNotHave) {
  create("20.20.20.1", 2020);
  auto range =
      call("DELETE",
           "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/portmax/2030/protocol/tcp");
  EXPECT_EQ(range.status, 400);
  EXPECT_NE(range.body.find("port ranges are not supported"), std::string::npos) << range.body;
  auto host = call("DELETE",
                   "/netlox/v1/config/loadbalancer/hosturl/example.com/externalipaddress/20.20.20.1/port/"
                   "2020/protocol/tcp");
  EXPECT_EQ(host.status, 400);
  EXPECT_NE(host.body.find("host/URL rules are not supported"), std::string::npos) << host.body;
  auto bgp =
      call("DELETE",
           "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp?bgp=maybe");
  EXPECT_EQ(bgp.status, 400);
  auto block = call(
      "DELETE", "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp?block=x");
  EXPECT_EQ(block.status, 400);
  EXPECT_EQ(world.rules.size(), 1u);  // nothing was deleted by a refused request
}

TEST_F(RouterTest, DeleteByName) {
  create("20.20.20.1", 2020);
  create("20.20.20.1", 2021);
  EXPECT_EQ(call("DELETE", "/netlox/v1/config/loadbalancer/name/svc1").status, 200);
  EXPECT_EQ(world.rules.size(), 0u);
  EXPECT_EQ(call("DELETE", "/netlox/v1/config/loadbalancer/name/svc1").status, 404);
}

TEST_F(RouterTest, BadInputIs4xxAndLeavesTheTableAlone) {
  create("20.20.20.1", 2020);
  const int saves = world.store.saves;
  EXPECT_EQ(call("POST", "/netlox/v1/config/loadbalancer", "{not json").status, 400);
  EXPECT_EQ(call("POST", "/netlox/v1/config/loadbalancer", ruleBody("20.20.20.999", 80)).status, 400);
  EXPECT_EQ(world.rules.size(), 1u);
  EXPECT_EQ(world.store.saves, saves);
  auto unknown = call("GET", "/netlox/v1/config/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no such resource: GET /netlox/v1/config/nothing"), std::string::npos);
  EXPECT_EQ(call("PUT", "/netlox/v1/config/loadbalancer").status, 404);
  EXPECT_EQ(call("GET", "/other").status, 404);
  EXPECT_EQ(call("GET", "/netlox/v1x").status, 404);
}

TEST_F(RouterTest, ChangesAreAnsweredOnlyOnceDurable) {
  create("20.20.20.1", 2020);
  world.store.hold();
  std::vector<std::string> order;
  std::mutex mu;
  auto note = [&](const std::string& e) {
    std::lock_guard l(mu);
    order.push_back(e);
  };
  std::thread post([&] {
    auto r = call("POST", "/netlox/v1/config/loadbalancer", ruleBody("20.20.20.2", 2020));
    note("POST " + std::to_string(r.status));
  });
  std::thread del([&] {
    ASSERT_TRUE(world.store.waitForWaiters(1));
    auto r =
        call("DELETE", "/netlox/v1/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp");
    note("DELETE " + std::to_string(r.status));
  });
  ASSERT_TRUE(world.store.waitForWaiters(2)) << "a change was answered without waiting for the store";
  EXPECT_EQ(world.store.durable().size(), 1u);  // neither change is durable yet...
  note("released");
  world.store.release();
  post.join();
  del.join();
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], "released");  // ...and neither was answered before
  EXPECT_EQ(world.store.durable().size(), 1u);
  EXPECT_EQ(world.store.durable()[0].spec.key.external_ip.str(), "20.20.20.2");
}

TEST_F(RouterTest, StoreFailureIs500AndRollsBack) {
  world.store.fail = true;
  auto r = call("POST", "/netlox/v1/config/loadbalancer", ruleBody("20.20.20.1", 2020));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("disk full"), std::string::npos) << r.body;
  EXPECT_EQ(world.rules.size(), 0u);
  auto services = world.datapath.listServices();
  ASSERT_TRUE(services.ok());
  EXPECT_TRUE(services->empty());
}

TEST_F(RouterTest, HaRoutesGoThroughTheView) {
  EXPECT_EQ(call("GET", "/netlox/v1/config/bfd/all").status, 500);
  EXPECT_EQ(call("GET", "/netlox/v1/config/ha/peers").status, 404);
  BfdSnapshot bfd;
  bfd.instance = "llb-inst0";
  bfd.config.remote = Ip4::fromOctets(10, 0, 0, 2);
  bfd.stats.peer_alive = true;
  world.ha.bfd_snapshot = bfd;
  auto b = call("GET", "/netlox/v1/config/bfd/all");
  EXPECT_EQ(b.status, 200);
  EXPECT_NE(b.body.find("BFDUp"), std::string::npos) << b.body;
  HaPeersSnapshot peers;
  peers.instance = "llb-inst0";
  peers.takeovers_out_of_sync = 7;
  world.ha.peers_snapshot = peers;
  auto p = call("GET", "/netlox/v1/config/ha/peers");
  EXPECT_EQ(p.status, 200);
  EXPECT_NE(p.body.find("7"), std::string::npos) << p.body;
  auto set = call("POST", "/netlox/v1/config/cistate", R"({"instance":"llb-inst0","state":"MASTER"})");
  EXPECT_EQ(set.status, 200) << set.body;
  ASSERT_EQ(world.ha.requests.size(), 1u);
  EXPECT_EQ(world.ha.requests[0].state, ha::CiState::kMaster);
  world.ha.request_result = makeError(ErrorCode::kInvalidArgument, "with --ka only MASTER or BACKUP");
  EXPECT_EQ(call("POST", "/netlox/v1/config/cistate", R"({"state":"FAULT"})").status, 400);
}

TEST(RouterNoViews, CiStateIsStoredAndCloudIsAbsent) {
  ApiWorld world;
  ApiRouter router(world.deps(/*with_views=*/false));
  auto set =
      router.handle(req("POST", "/netlox/v1/config/cistate", R"({"instance":"llb-inst0","state":"BACKUP"})"));
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(world.cistate.state("llb-inst0"), ha::CiState::kBackup);
  auto all = router.handle(req("GET", "/netlox/v1/config/cistate/all"));
  EXPECT_NE(all.body.find("BACKUP"), std::string::npos) << all.body;
  EXPECT_EQ(router.handle(req("GET", "/netlox/v1/config/cloud/timeline")).status, 404);
  EXPECT_EQ(router.handle(req("GET", "/netlox/v1/config/bfd/all")).body.find("bfd session not running") !=
                std::string::npos,
            true);
}

TEST_F(RouterTest, CloudTimelineComesFromTheView) {
  world.cloud.timeline = R"({"takeovers":[]})";
  auto r = call("GET", "/netlox/v1/config/cloud/timeline");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"takeovers":[]})");
}

TEST_F(RouterTest, EndpointRoutes) {
  auto add = call(
      "POST", "/netlox/v1/config/endpoint",
      R"({"hostName":"10.1.0.9","probeType":"tcp","probePort":8080,"probeDuration":5,"probeRetries":2})");
  EXPECT_EQ(add.status, 200) << add.body;
  ASSERT_EQ(world.health.added.size(), 1u);
  EXPECT_EQ(world.health.added[0].key.port, 8080);
  auto del = call("DELETE", "/netlox/v1/config/endpoint/epipaddress/10.1.0.9?probe_type=tcp&probe_port=8080");
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(world.health.removed, (std::vector<std::string>{"10.1.0.9/tcp/8080"}));
  EXPECT_EQ(call("DELETE", "/netlox/v1/config/endpoint/epipaddress/10.1.0.9?probe_port=x").status, 400);
  EXPECT_EQ(call("GET", "/netlox/v1/config/endpoint/all").status, 200);
  EXPECT_EQ(call("GET", "/netlox/v1/config/conntrack/all").status, 200);
}

// Every sample belongs to a family with a TYPE line; label values are escaped.
TEST_F(RouterTest, MetricsDeclareEveryFamily) {
  create("20.20.20.1", 2020);
  (void)world.cistate.set("llb-inst0", ha::CiState::kMaster, Ip4());
  auto r = call("GET", "/netlox/v1/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  std::set<std::string> typed;
  std::stringstream ss(r.body);
  std::string line;
  int samples = 0;
  while (std::getline(ss, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(typed.count(name)) << "no TYPE before " << line;
  }
  EXPECT_GT(samples, 5);
  for (const char* family :
       {"floatlb_rules", "floatlb_endpoint_up", "floatlb_ha_state", "floatlb_ha_transitions_total",
        "fake_ha_metric", "fake_cloud_takeovers_total"}) {
    EXPECT_TRUE(typed.count(family)) << family;
  }
  EXPECT_NE(r.body.find(R"(fake_ha_metric{peer="a\"b"} 1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("floatlb_rules 1\n"), std::string::npos);
}

class AuthTest : public ::testing::Test {
 protected:
  ApiWorld world;
  ApiRouter router{[this] {
    auto d = world.deps();
    d.tokens = {"first-token", "s3cret-token"};
    return d;
  }()};
  ApiResponse call(const std::string& method, const std::string& path, const std::string& auth) {
    auto r = req(method, path);
    r.authorization = auth;
    return router.handle(r);
  }
};

TEST_F(AuthTest, LivenessStaysOpen) {
  EXPECT_EQ(call("GET", "/netlox/v1", "").status, 200);
  EXPECT_EQ(call("GET", "/netlox/v1/", "").status, 200);
}

TEST_F(AuthTest, EverythingElseNeedsAToken) {
  auto none = call("GET", "/netlox/v1/config/loadbalancer/all", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("\"code\":401"), std::string::npos) << none.body;
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "Bearer wrong").status, 401);
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "Bearer s3cret-toke").status, 401);
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "Bearer s3cret-token-").status, 401);
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "s3cret-token").status, 401);
  EXPECT_EQ(call("DELETE", "/netlox/v1/config/loadbalancer/all", "").status, 401);
  EXPECT_EQ(call("POST", "/netlox/v1/config/cistate", "").status, 401);
  EXPECT_EQ(call("GET", "/netlox/v1/metrics", "").status, 401);
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "Bearer s3cret-token").status, 200);
  EXPECT_EQ(call("GET", "/netlox/v1/config/loadbalancer/all", "Bearer first-token").status, 200);
  EXPECT_TRUE(world.ha.requests.empty());
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
  EXPECT_FALSE(constantTimeEquals("ab", "abc"));
  EXPECT_FALSE(constantTimeEquals("", "a"));
  EXPECT_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace floatlb::api
