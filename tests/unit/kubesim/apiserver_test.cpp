// ApiServer semantics with an injected clock: RV/409/410, watch framing (enter/leave, bookmarks, ERROR),
// Service allocation and 422s, strict field validation, finalizers, graceful pod deletion, controllers.
#include "kubesim/apiserver.h"

#include <gtest/gtest.h>

#include "common/clock.h"

using namespace floatlb;
using namespace floatlb::kubesim;

namespace {

class Api : public ::testing::Test {
 protected:
  FakeClock clock;
  ApiConfig cfg = [] {
    ApiConfig c;
    c.seed = 7;
    c.nodeGraceMs = 2000;
    return c;
  }();
  ApiServer api{clock, cfg};

  void SetUp() override {
    NodeSpec n;
    n.name = "ip-192-168-218-10.ap-northeast-3.compute.internal";
    n.ip = "192.168.218.10";
    n.az = "ap-northeast-3a";
    n.instanceId = "i-1";
    api.addNode(n);
  }

  Response call(const std::string& method, const std::string& path, const std::string& body = "",
                std::map<std::string, std::string> query = {}, const std::string& ct = "application/json",
                const std::string& accept = "application/json") {
    Request r{method, path, std::move(query), accept, ct, "test", body};
    return api.handle(r);
  }
  json j(const Response& r) { return json::parse(r.body); }

  std::string drain(WatchCursor& c) {
    std::string out, chunk;
    for (int i = 0; i < 5; ++i) {
      chunk.clear();
      auto st = api.pollWatch(c, std::chrono::milliseconds(1), chunk);
      out += chunk;
      if (st != ApiServer::WatchStep::kData) break;
    }
    return out;
  }
};

const char* kSvc = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"nginx-lb1"},
  "spec":{"externalTrafficPolicy":"Local","loadBalancerClass":"loxilb.io/loxilb","selector":{"what":"nginx-test"},
  "ports":[{"port":55002,"targetPort":80}],"type":"LoadBalancer"}})";
const char* kPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-test","labels":{"what":"nginx-test"}},
  "spec":{"containers":[{"name":"nginx-test","image":"nginx:stable","ports":[{"containerPort":80}]}]}})";

}  // namespace

TEST_F(Api, DefaultsAtStart) {
  auto k = j(call("GET", "/api/v1/namespaces/default/services/kubernetes"));
  EXPECT_EQ(k["spec"]["clusterIP"], "10.100.0.1");
  EXPECT_EQ(k["spec"]["ports"][0]["name"], "https");
  auto ns = j(call("GET", "/api/v1/namespaces"));
  EXPECT_EQ(ns["items"].size(), 4u);
  EXPECT_EQ(ns["kind"], "NamespaceList");
  EXPECT_FALSE(ns["items"][0].contains("kind"));  // list items carry no kind, as on a real server
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/serviceaccounts/default").code,
            404);  // created by the first tick
  api.tick();
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/serviceaccounts/default").code, 200);
}

TEST_F(Api, ServiceAllocationAndDefaults) {
  auto r = call("POST", "/api/v1/namespaces/default/services", kSvc, {{"fieldValidation", "Strict"}});
  ASSERT_EQ(r.code, 201) << r.body;
  json s = j(r);
  EXPECT_EQ(s["metadata"]["namespace"], "default");
  EXPECT_EQ(s["spec"]["clusterIPs"], json::array({s["spec"]["clusterIP"]}));
  int np = s["spec"]["ports"][0]["nodePort"];
  EXPECT_GE(np, 30000);
  EXPECT_LE(np, 32767);
  EXPECT_NE(s["spec"]["healthCheckNodePort"].get<int>(), np);
  EXPECT_EQ(s["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(s["spec"]["sessionAffinity"], "None");
  EXPECT_EQ(s["spec"]["allocateLoadBalancerNodePorts"], true);
  EXPECT_EQ(s["status"], json::parse(R"({"loadBalancer":{}})"));
  EXPECT_FALSE(s["metadata"].contains("generation"));
  // Collision: same nodePort on another Service.
  json dup = json::parse(kSvc);
  dup["metadata"]["name"] = "other";
  dup["spec"]["ports"][0]["nodePort"] = np;
  auto c = call("POST", "/api/v1/namespaces/default/services", dup.dump());
  EXPECT_EQ(c.code, 422);
  EXPECT_EQ(j(c)["message"], "Service \"other\" is invalid: spec.ports[0].nodePort: Invalid value: " +
                                 std::to_string(np) + ": provided port is already allocated");
  dup["spec"]["ports"][0]["nodePort"] = 29000;
  EXPECT_NE(
      j(call("POST", "/api/v1/namespaces/default/services", dup.dump()))["message"].get<std::string>().find(
          "provided port is not in the valid range. The range of valid ports is 30000-32767"),
      std::string::npos);
  dup["spec"]["ports"][0].erase("nodePort");
  dup["spec"]["clusterIP"] = "10.100.0.1";
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/services", dup.dump()).code, 422);
  dup["spec"].erase("clusterIP");
  dup["spec"]["loadBalancerIP"] = "foo";
  EXPECT_NE(
      j(call("POST", "/api/v1/namespaces/default/services", dup.dump()))["message"].get<std::string>().find(
          "spec.loadBalancerIP: Invalid value: \"foo\": must be a valid IP address"),
      std::string::npos);
  // Duplicate name.
  auto again = call("POST", "/api/v1/namespaces/default/services", kSvc);
  EXPECT_EQ(again.code, 409);
  EXPECT_EQ(j(again)["reason"], "AlreadyExists");
  EXPECT_EQ(j(again)["message"], "services \"nginx-lb1\" already exists");
  // Class is immutable.
  auto patched = call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
                      R"({"spec":{"loadBalancerClass":"x.io/y"}})", {}, "application/merge-patch+json");
  EXPECT_EQ(patched.code, 422);
  // Deleting frees the ports: the same nodePort is accepted again.
  ASSERT_EQ(call("DELETE", "/api/v1/namespaces/default/services/nginx-lb1").code, 200);
  dup = json::parse(kSvc);
  dup["spec"]["ports"][0]["nodePort"] = np;
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/services", dup.dump()).code, 201);
}

TEST_F(Api, ApplyChangedPortKeepsNodePortByName) {
  json s = j(call("POST", "/api/v1/namespaces/default/services", kSvc));
  int np = s["spec"]["ports"][0]["nodePort"];
  auto r = call(
      "PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
      R"({"spec":{"$setElementOrder/ports":[{"port":55003}],"ports":[{"port":55003,"targetPort":80},{"$patch":"delete","port":55002}]}})",
      {{"fieldManager", "kubectl-client-side-apply"}, {"fieldValidation", "Strict"}},
      "application/strategic-merge-patch+json");
  ASSERT_EQ(r.code, 200) << r.body;
  json p = j(r);
  ASSERT_EQ(p["spec"]["ports"].size(), 1u);
  EXPECT_EQ(p["spec"]["ports"][0]["port"], 55003);
  EXPECT_EQ(p["spec"]["ports"][0]["nodePort"], np);
  // Type change to ClusterIP drops nodePorts, healthCheckNodePort and the traffic policy.
  auto t =
      call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
           R"({"spec":{"type":"ClusterIP","loadBalancerClass":null}})", {}, "application/merge-patch+json");
  ASSERT_EQ(t.code, 200) << t.body;
  EXPECT_FALSE(j(t)["spec"]["ports"][0].contains("nodePort"));
  EXPECT_FALSE(j(t)["spec"].contains("healthCheckNodePort"));
}

TEST_F(Api, StrictFieldValidation) {
  json bad = json::parse(kSvc);
  bad["spec"]["bogus"] = 1;
  bad["spec"]["ports"][0]["x"] = 1;
  auto r = call("POST", "/api/v1/namespaces/default/services", bad.dump(), {{"fieldValidation", "Strict"}});
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(j(r)["message"],
            "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown "
            "field \"spec.bogus\", unknown field \"spec.ports[0].x\"");
  auto w = call("POST", "/api/v1/namespaces/default/services", bad.dump(), {{"fieldValidation", "Warn"}});
  EXPECT_EQ(w.code, 201);
  ASSERT_FALSE(w.headers.empty());
  EXPECT_EQ(w.headers[0].second, "299 - \"unknown field \\\"spec.bogus\\\"\"");
}

TEST_F(Api, ResourceVersionConflictAndNoop) {
  json s = j(call("POST", "/api/v1/namespaces/default/services", kSvc));
  std::string rv = s["metadata"]["resourceVersion"];
  json upd = s;
  upd["metadata"]["labels"] = {{"a", "b"}};
  auto ok = call("PUT", "/api/v1/namespaces/default/services/nginx-lb1", upd.dump());
  ASSERT_EQ(ok.code, 200);
  EXPECT_NE(j(ok)["metadata"]["resourceVersion"], rv);
  auto stale = call("PUT", "/api/v1/namespaces/default/services/nginx-lb1", upd.dump());
  EXPECT_EQ(stale.code, 409);
  EXPECT_EQ(j(stale)["message"],
            "Operation cannot be fulfilled on services \"nginx-lb1\": the object has been modified; "
            "please apply your changes to the latest version and try again");
  EXPECT_EQ(j(stale)["details"], json::parse(R"({"name":"nginx-lb1","kind":"services"})"));
  json cur = j(ok);
  auto same = call("PUT", "/api/v1/namespaces/default/services/nginx-lb1", cur.dump());
  EXPECT_EQ(j(same)["metadata"]["resourceVersion"], cur["metadata"]["resourceVersion"]);  // no-op: no new RV
  // Status subresource: only status is taken; spec changes are ignored.
  auto st = call(
      "PATCH", "/api/v1/namespaces/default/services/nginx-lb1/status",
      R"({"spec":{"type":"ClusterIP"},"status":{"loadBalancer":{"ingress":[{"hostname":"llb-198.18.100.10"}]}}})",
      {}, "application/merge-patch+json");
  ASSERT_EQ(st.code, 200) << st.body;
  EXPECT_EQ(j(st)["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(j(st)["status"]["loadBalancer"]["ingress"][0]["hostname"], "llb-198.18.100.10");
  auto ipHost = call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1/status",
                     R"({"status":{"loadBalancer":{"ingress":[{"hostname":"1.2.3.4"}]}}})", {},
                     "application/merge-patch+json");
  EXPECT_EQ(ipHost.code, 422);
  // Main resource ignores status.
  auto main = call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
                   R"({"status":{"loadBalancer":{}}})", {}, "application/merge-patch+json");
  EXPECT_EQ(j(main)["status"]["loadBalancer"]["ingress"][0]["hostname"], "llb-198.18.100.10");
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/services/missing").code, 404);
  EXPECT_EQ(j(call("GET", "/api/v1/namespaces/default/services/missing"))["message"],
            "services \"missing\" not found");
  EXPECT_EQ(call("POST", "/api/v1/namespaces/nope/services", kSvc).code, 404);
}

TEST_F(Api, WatchFramingSelectorsBookmarksAnd410) {
  json list = j(call("GET", "/api/v1/services", "", {{"limit", "500"}, {"resourceVersion", "0"}}));
  std::string rv = list["metadata"]["resourceVersion"];
  auto w = call("GET", "/api/v1/namespaces/default/services", "",
                {{"watch", "True"},
                 {"resourceVersion", rv},
                 {"labelSelector", "team=a"},
                 {"allowWatchBookmarks", "true"}});
  ASSERT_TRUE(w.watch);
  call("POST", "/api/v1/namespaces/default/services", kSvc);  // no label: not seen
  EXPECT_EQ(drain(*w.watch), "");
  call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1", R"({"metadata":{"labels":{"team":"a"}}})",
       {}, "application/merge-patch+json");
  std::string out = drain(*w.watch);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  json ev = json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(ev["type"], "ADDED");  // entered the selector
  EXPECT_EQ(ev["object"]["metadata"]["labels"]["team"], "a");
  call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1", R"({"metadata":{"labels":{"team":"b"}}})",
       {}, "application/merge-patch+json");
  json left = json::parse(drain(*w.watch));
  EXPECT_EQ(left["type"], "DELETED");  // left the selector
  json bm = json::parse(api.bookmarkLine(*w.watch));
  EXPECT_EQ(bm["type"], "BOOKMARK");
  EXPECT_EQ(bm["object"]["kind"], "Service");
  // A bookmark carries an RV at or after the last event sent (controllers may have written since).
  EXPECT_GE(std::stoull(bm["object"]["metadata"]["resourceVersion"].get<std::string>()),
            std::stoull(left["object"]["metadata"]["resourceVersion"].get<std::string>()));

  // Watch from RV 0: synthetic ADDED for what exists.
  auto w0 = call("GET", "/api/v1/namespaces/default/services", "", {{"watch", "1"}});
  std::string init = drain(*w0.watch);
  EXPECT_EQ(std::count(init.begin(), init.end(), '\n'), 2);

  // Compaction: an old RV gets an ERROR 410 event inside a 200 stream, then the stream ends.
  api.compact();
  auto old =
      call("GET", "/api/v1/namespaces/default/services", "", {{"watch", "true"}, {"resourceVersion", rv}});
  ASSERT_EQ(old.code, 200);
  std::string chunk;
  ASSERT_EQ(api.pollWatch(*old.watch, std::chrono::milliseconds(1), chunk), ApiServer::WatchStep::kData);
  json err = json::parse(chunk);
  EXPECT_EQ(err["type"], "ERROR");
  EXPECT_EQ(err["object"]["code"], 410);
  EXPECT_EQ(err["object"]["reason"], "Expired");
  EXPECT_EQ(err["object"]["message"].get<std::string>().rfind("too old resource version: " + rv + " (", 0),
            0u);
  chunk.clear();
  EXPECT_EQ(api.pollWatch(*old.watch, std::chrono::milliseconds(1), chunk), ApiServer::WatchStep::kEnd);
  // Too large RV: 504 with ResourceVersionTooLarge.
  auto big = call("GET", "/api/v1/namespaces/default/services", "",
                  {{"watch", "true"}, {"resourceVersion", "999999"}});
  EXPECT_EQ(big.code, 504);
  EXPECT_EQ(j(big)["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
  // A dropped watch ends (close) for the client.
  auto w2 = call("GET", "/api/v1/services", "",
                 {{"watch", "true"}, {"resourceVersion", std::to_string(std::stoull(rv) + 1)}});
  api.dropWatches(true);
  chunk.clear();
  EXPECT_EQ(api.pollWatch(*w2.watch, std::chrono::milliseconds(1), chunk), ApiServer::WatchStep::kReset);
}

TEST_F(Api, TableWatchAndListPaging) {
  const std::string T = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  call("POST", "/api/v1/namespaces/default/services", kSvc);
  auto t = call("GET", "/api/v1/namespaces/default/services", "", {{"limit", "500"}}, "", T);
  EXPECT_EQ(t.contentType, "application/json;as=Table;v=v1;g=meta.k8s.io");
  json tbl = j(t);
  ASSERT_EQ(tbl["rows"].size(), 2u);
  EXPECT_EQ(tbl["rows"][0]["cells"][0], "kubernetes");  // etcd key order
  EXPECT_EQ(tbl["rows"][1]["object"]["kind"], "PartialObjectMetadata");
  auto p1 = j(call("GET", "/api/v1/namespaces/default/services", "", {{"limit", "1"}}));
  ASSERT_EQ(p1["items"].size(), 1u);
  ASSERT_TRUE(p1["metadata"].contains("continue"));
  EXPECT_EQ(p1["metadata"]["remainingItemCount"], 1);
  auto p2 = j(call("GET", "/api/v1/namespaces/default/services", "",
                   {{"limit", "1"}, {"continue", p1["metadata"]["continue"]}}));
  ASSERT_EQ(p2["items"].size(), 1u);
  EXPECT_EQ(p2["items"][0]["metadata"]["name"], "nginx-lb1");
  EXPECT_FALSE(p2["metadata"].contains("continue"));
  call("POST", "/api/v1/namespaces/default/configmaps",
       R"({"metadata":{"name":"bump"}})");  // history moves on
  api.compact();
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/services", "",
                 {{"limit", "1"}, {"continue", p1["metadata"]["continue"]}})
                .code,
            410);
}

TEST_F(Api, PodLifecycleFinalizersAndSlices) {
  call("POST", "/api/v1/namespaces/default/services", kSvc);
  auto p = call("POST", "/api/v1/namespaces/default/pods", kPod, {{"fieldValidation", "Strict"}});
  ASSERT_EQ(p.code, 201) << p.body;
  EXPECT_EQ(j(p)["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(j(p)["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(j(p)["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
  api.tick();
  json pod = j(call("GET", "/api/v1/namespaces/default/pods/nginx-test"));
  EXPECT_EQ(pod["status"]["phase"], "Running");
  EXPECT_EQ(pod["spec"]["nodeName"], "ip-192-168-218-10.ap-northeast-3.compute.internal");
  std::string ip = pod["status"]["podIP"];
  json slices = j(call("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "",
                       {{"labelSelector", "kubernetes.io/service-name=nginx-lb1"}}));
  ASSERT_EQ(slices["items"].size(), 1u);
  json sl = slices["items"][0];
  EXPECT_EQ(sl["endpoints"][0]["addresses"][0], ip);
  EXPECT_EQ(sl["endpoints"][0]["conditions"]["ready"], true);
  EXPECT_EQ(sl["endpoints"][0]["zone"], "ap-northeast-3a");
  EXPECT_EQ(sl["ports"][0]["port"], 80);
  EXPECT_EQ(sl["metadata"]["ownerReferences"][0]["kind"], "Service");

  // Finalizer on the Service: DELETE marks it; removing the finalizer completes the deletion.
  call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
       R"({"metadata":{"finalizers":["loxilb.io/loadbalancer"]}})", {}, "application/merge-patch+json");
  auto d = call("DELETE", "/api/v1/namespaces/default/services/nginx-lb1",
                R"({"propagationPolicy":"Background"})");
  EXPECT_EQ(d.code, 200);
  json marked = j(call("GET", "/api/v1/namespaces/default/services/nginx-lb1"));
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(marked["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
                 R"({"metadata":{"finalizers":["a","loxilb.io/loadbalancer"]}})", {},
                 "application/merge-patch+json")
                .code,
            422);
  call("PATCH", "/api/v1/namespaces/default/services/nginx-lb1", R"({"metadata":{"finalizers":null}})", {},
       "application/merge-patch+json");
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/services/nginx-lb1").code, 404);
  api.tick();
  EXPECT_EQ(j(call("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "",
                   {{"labelSelector", "kubernetes.io/service-name=nginx-lb1"}}))["items"]
                .size(),
            0u);  // GC by owner

  // Graceful pod deletion: Terminating first, the kubelet then removes it.
  auto del =
      call("DELETE", "/api/v1/namespaces/default/pods/nginx-test", R"({"propagationPolicy":"Background"})");
  EXPECT_EQ(j(del)["metadata"]["deletionGracePeriodSeconds"], 30);
  api.tick();
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/nginx-test").code, 404);
}

TEST_F(Api, UnknownImageAndDeployments) {
  json bad = json::parse(kPod);
  bad["metadata"]["name"] = "bad";
  bad["spec"]["containers"][0]["image"] = "example.com/nope:1";
  call("POST", "/api/v1/namespaces/default/pods", bad.dump());
  api.tick();
  json pod = j(call("GET", "/api/v1/namespaces/default/pods/bad"));
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ErrImagePull");
  clock.advance(std::chrono::seconds(3));
  api.tick();
  pod = j(call("GET", "/api/v1/namespaces/default/pods/bad"));
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");

  auto d = call("POST", "/apis/apps/v1/namespaces/default/deployments",
                R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,
                  "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
                  "spec":{"containers":[{"name":"n","image":"nginx:stable"}]}}}})");
  ASSERT_EQ(d.code, 201) << d.body;
  api.tick();
  api.tick();
  json pods = j(call("GET", "/api/v1/namespaces/default/pods", "", {{"labelSelector", "app=web"}}));
  ASSERT_EQ(pods["items"].size(), 2u);
  EXPECT_EQ(pods["items"][0]["metadata"]["ownerReferences"][0]["kind"], "Deployment");
  json dep = j(call("GET", "/apis/apps/v1/namespaces/default/deployments/web"));
  EXPECT_EQ(dep["status"]["readyReplicas"], 2);
  call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", R"({"spec":{"replicas":1}})", {},
       "application/merge-patch+json");
  api.tick();
  api.tick();
  EXPECT_EQ(
      j(call("GET", "/api/v1/namespaces/default/pods", "", {{"labelSelector", "app=web"}}))["items"].size(),
      1u);
  call("DELETE", "/apis/apps/v1/namespaces/default/deployments/web");
  api.tick();
  api.tick();
  EXPECT_EQ(
      j(call("GET", "/api/v1/namespaces/default/pods", "", {{"labelSelector", "app=web"}}))["items"].size(),
      0u);
}

TEST_F(Api, NodeDownAfterGrace) {
  const std::string name = "ip-192-168-218-10.ap-northeast-3.compute.internal";
  ASSERT_TRUE(api.setNodeState(name, false).ok());
  json n = j(call("GET", "/api/v1/nodes/" + name));
  EXPECT_EQ(n["status"]["conditions"][3]["status"], "True");  // still within the grace
  clock.advance(std::chrono::seconds(3));
  api.tick();
  n = j(call("GET", "/api/v1/nodes/" + name));
  EXPECT_EQ(n["status"]["conditions"][3]["type"], "Ready");
  EXPECT_EQ(n["status"]["conditions"][3]["status"], "Unknown");
  ASSERT_TRUE(api.setNodeState(name, true).ok());
  EXPECT_EQ(j(call("GET", "/api/v1/nodes/" + name))["status"]["conditions"][3]["status"], "True");
  EXPECT_FALSE(api.setNodeState("nope", true).ok());
}

TEST_F(Api, FaultsAndDiscovery) {
  api.addFault("PUT", "services", 409, 1);
  json s = j(call("GET", "/api/v1/namespaces/default/services/kubernetes"));
  EXPECT_EQ(call("PUT", "/api/v1/namespaces/default/services/kubernetes", s.dump()).code, 409);
  EXPECT_EQ(call("PUT", "/api/v1/namespaces/default/services/kubernetes", s.dump()).code, 200);
  auto v = j(call("GET", "/version"));
  EXPECT_EQ(v["minor"], "32");
  EXPECT_EQ(v["gitVersion"], "v1.32.0");
  auto agg = call("GET", "/apis", "", {}, "",
                  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  EXPECT_EQ(agg.contentType, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(call("GET", "/openapi/v3").code, 404);
  auto pb =
      call("GET", "/openapi/v2", "", {}, "", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
  EXPECT_EQ(pb.contentType, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  EXPECT_EQ(
      call("GET", "/api/v1/namespaces/default/services", "", {}, "", "application/vnd.kubernetes.protobuf")
          .code,
      406);
  EXPECT_EQ(call("PATCH", "/api/v1/namespaces/default/services/kubernetes", "{}", {},
                 "application/apply-patch+yaml")
                .code,
            415);
  EXPECT_EQ(
      call("GET", "/api/v1/namespaces/default/services", "", {{"fieldSelector", "spec.nodeName=x"}}).code,
      400);
}

// The controllers work from the store's change history: an idle ticker does no pass, a pod label change
// moves it between the slices of two Services, a slice edited or deleted by hand is restored, a deleted
// Service's slice goes by GC and its Endpoints with it, and a compaction (history gap) still converges.
TEST_F(Api, ControllersFollowChangesOnly) {
  auto sliceOf = [&](const std::string& svc) {
    return j(call("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "",
                  {{"labelSelector", "kubernetes.io/service-name=" + svc}}))["items"];
  };
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/services", kSvc).code, 201);
  json other = json::parse(kSvc);
  other["metadata"]["name"] = "other";
  other["spec"]["selector"] = {{"what", "other"}};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/services", other.dump()).code, 201);
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", kPod).code, 201);
  for (int i = 0; i < 3; ++i) api.tick();
  uint64_t passes = api.controllerPasses();
  for (int i = 0; i < 5; ++i) api.tick();
  EXPECT_EQ(api.controllerPasses(), passes);  // nothing changed: no pass
  ASSERT_EQ(sliceOf("nginx-lb1").size(), 1u);
  EXPECT_EQ(sliceOf("nginx-lb1")[0]["endpoints"].size(), 1u);
  EXPECT_EQ(sliceOf("other")[0]["endpoints"].size(), 0u);

  // Relabel: leaves nginx-lb1 (old labels matched), joins other (new labels match).
  call("PATCH", "/api/v1/namespaces/default/pods/nginx-test", R"({"metadata":{"labels":{"what":"other"}}})",
       {}, "application/merge-patch+json");
  EXPECT_EQ(sliceOf("nginx-lb1")[0]["endpoints"].size(), 0u);
  EXPECT_EQ(sliceOf("other")[0]["endpoints"].size(), 1u);
  EXPECT_FALSE(j(call("GET", "/api/v1/namespaces/default/endpoints/other"))["subsets"].empty());
  EXPECT_GT(api.controllerPasses(), passes);

  // A hand edit of the controller's slice is undone; a deleted slice comes back.
  std::string sname = sliceOf("other")[0]["metadata"]["name"];
  call("PATCH", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + sname, R"({"endpoints":[]})",
       {}, "application/merge-patch+json");
  EXPECT_EQ(sliceOf("other")[0]["endpoints"].size(), 1u);
  call("DELETE", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + sname);
  ASSERT_EQ(sliceOf("other").size(), 1u);
  EXPECT_EQ(sliceOf("other")[0]["endpoints"].size(), 1u);

  // Deleting the Service: its slice goes by GC (dependent of a deleted owner), its Endpoints too.
  call("DELETE", "/api/v1/namespaces/default/services/other");
  api.tick();
  EXPECT_EQ(sliceOf("other").size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/endpoints/other").code, 404);
  EXPECT_EQ(sliceOf("nginx-lb1").size(), 1u);

  // A history gap: the next pass is a full one and still converges.
  api.compact();
  call("PATCH", "/api/v1/namespaces/default/pods/nginx-test",
       R"({"metadata":{"labels":{"what":"nginx-test"}}})", {}, "application/merge-patch+json");
  EXPECT_EQ(sliceOf("nginx-lb1")[0]["endpoints"].size(), 1u);
  // Lost node: time alone moves the lifecycle controller (the ticker keeps passing while it is down).
  ASSERT_TRUE(api.setNodeState("ip-192-168-218-10.ap-northeast-3.compute.internal", false).ok());
  clock.advance(std::chrono::milliseconds(2500));
  api.tick();
  EXPECT_EQ(sliceOf("nginx-lb1")[0]["endpoints"][0]["conditions"]["ready"], false);
}
