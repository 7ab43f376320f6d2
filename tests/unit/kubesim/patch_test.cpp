// Patch vectors: RFC 7386 merge patch, RFC 6902 JSON patch and strategic merge patch, incl. the exact
// bodies kubectl 1.32/1.20 send on `apply` (reference §3.1).
#include "kubesim/patch.h"

#include <gtest/gtest.h>

using json = nlohmann::json;
using namespace floatlb::kubesim;

namespace {
json svc() {
  return json::parse(
      R"({"metadata":{"name":"nginx-lb1","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"old"},
    "finalizers":["a"]},
    "spec":{"ports":[{"port":55002,"targetPort":80,"protocol":"TCP","nodePort":32403}],"type":"LoadBalancer",
    "selector":{"what":"nginx-test"}}})");
}
}  // namespace

TEST(MergePatch, Rfc7386) {
  auto r = mergePatch(json::parse(R"({"a":"b","c":{"d":"e","f":"g"},"l":[1,2]})"),
                      json::parse(R"({"a":"z","c":{"f":null},"l":[3]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"({"a":"z","c":{"d":"e"},"l":[3]})"));
  // The operator's status write: arrays are replaced.
  auto s = mergePatch(
      json::parse(R"({"status":{"loadBalancer":{"ingress":[{"ip":"1.1.1.1"}]}}})"),
      json::parse(R"({"status":{"loadBalancer":{"ingress":[{"hostname":"llb-198.18.100.10"}]}}})"));
  EXPECT_EQ((*s)["status"]["loadBalancer"]["ingress"], json::parse(R"([{"hostname":"llb-198.18.100.10"}])"));
}

TEST(JsonPatch, OpsAndTest) {
  json doc = json::parse(R"({"metadata":{"finalizers":["x","y"]},"spec":{"replicas":1}})");
  auto r = jsonPatch(doc, json::parse(R"([{"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":3},{"op":"remove","path":"/metadata/finalizers/0"},
      {"op":"add","path":"/metadata/labels","value":{"a":"b"}}])"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"({"metadata":{"finalizers":["y"],"labels":{"a":"b"}},"spec":{"replicas":3}})"));
  auto bad = jsonPatch(doc, json::parse(R"([{"op":"test","path":"/spec/replicas","value":2}])"));
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(jsonPatch(doc, json::parse(R"({"op":"add"})")).ok());
}

TEST(StrategicMergePatch, KubectlApplyChangedPort) {
  // kubectl 1.32 and 1.20, `apply` after port 55002 -> 55003 (measured body).
  json body =
      json::parse(R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"}},
    "spec":{"$setElementOrder/ports":[{"port":55003}],"ports":[{"port":55003,"targetPort":80},{"$patch":"delete","port":55002}]}})");
  auto r = strategicMergePatch(svc(), body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["spec"]["ports"], json::parse(R"([{"port":55003,"targetPort":80}])"));
  EXPECT_EQ((*r)["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"], "new");
  EXPECT_EQ((*r)["metadata"]["finalizers"], json::parse(R"(["a"])"));
  EXPECT_EQ((*r)["spec"]["selector"], json::parse(R"({"what":"nginx-test"})"));
}

TEST(StrategicMergePatch, MergeKeysAndOrder) {
  json pod = json::parse(R"({"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"E1","value":"1"}]},
      {"name":"b","image":"y"}]}})");
  auto r = strategicMergePatch(
      pod, json::parse(R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
      "containers":[{"name":"a","env":[{"name":"E2","value":"2"}]}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["spec"]["containers"][0]["name"], "b");
  EXPECT_EQ((*r)["spec"]["containers"][1]["image"], "x");
  EXPECT_EQ((*r)["spec"]["containers"][1]["env"].size(), 2u);
  // Lists without a merge key are replaced.
  auto args = strategicMergePatch(json::parse(R"({"spec":{"containers":[{"name":"a","args":["1","2"]}]}})"),
                                  json::parse(R"({"spec":{"containers":[{"name":"a","args":["3"]}]}})"));
  EXPECT_EQ((*args)["spec"]["containers"][0]["args"], json::parse(R"(["3"])"));
}

TEST(StrategicMergePatch, FinalizersAreASetAndDirectives) {
  auto add = strategicMergePatch(svc(), json::parse(R"({"metadata":{"finalizers":["b","a"]}})"));
  EXPECT_EQ((*add)["metadata"]["finalizers"], json::parse(R"(["a","b"])"));
  auto del = strategicMergePatch(
      svc(), json::parse(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})"));
  EXPECT_EQ((*del)["metadata"]["finalizers"], json::array());
  auto rep = strategicMergePatch(svc(), json::parse(R"({"spec":{"$patch":"replace","type":"ClusterIP"}})"));
  EXPECT_EQ((*rep)["spec"], json::parse(R"({"type":"ClusterIP"})"));
  auto nul = strategicMergePatch(svc(), json::parse(R"({"spec":{"selector":null}})"));
  EXPECT_FALSE((*nul)["spec"].contains("selector"));
  auto retain = strategicMergePatch(
      json::parse(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})"),
      json::parse(R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})"));
  EXPECT_EQ((*retain)["spec"]["strategy"], json::parse(R"({"type":"Recreate"})"));
  auto listReplace =
      strategicMergePatch(svc(), json::parse(R"({"spec":{"ports":[{"$patch":"replace"},{"port":1}]}})"));
  EXPECT_EQ((*listReplace)["spec"]["ports"], json::parse(R"([{"port":1}])"));
  EXPECT_FALSE(strategicMergePatch(svc(), json::parse(R"({"spec":{"ports":[{"targetPort":1}]}})")).ok());
  // python-kubernetes patch_namespaced_service_status with a dict (SMP): conditions merge by type.
  auto cond =
      strategicMergePatch(json::parse(R"({"status":{"conditions":[{"type":"A","status":"True"}]}})"),
                          json::parse(R"({"status":{"conditions":[{"type":"B","status":"False"}]}})"));
  EXPECT_EQ((*cond)["status"]["conditions"].size(), 2u);
}
