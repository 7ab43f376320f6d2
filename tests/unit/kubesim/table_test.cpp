#include "kubesim/table.h"

#include <gtest/gtest.h>

#include "kubesim/alloc.h"
#include "kubesim/resources.h"

using namespace floatlb::kubesim;
using json = nlohmann::json;

TEST(HumanDuration, ApimachineryBands) {
  auto s = [](int64_t sec) { return humanDuration(sec * 1000); };
  EXPECT_EQ(s(-5), "<invalid>");
  EXPECT_EQ(humanDuration(-500), "0s");
  EXPECT_EQ(s(15), "15s");
  EXPECT_EQ(s(119), "119s");
  EXPECT_EQ(s(150), "2m30s");
  EXPECT_EQ(s(180), "3m");
  EXPECT_EQ(s(45 * 60), "45m");
  EXPECT_EQ(s(5 * 3600 + 600), "5h10m");
  EXPECT_EQ(s(22 * 3600), "22h");
  EXPECT_EQ(s(3 * 86400 + 4 * 3600), "3d4h");
  EXPECT_EQ(s(30 * 86400), "30d");
  EXPECT_EQ(s((2 * 365 + 5) * 86400LL), "2y5d");
  EXPECT_EQ(s(9 * 365 * 86400LL), "9y");
}

TEST(Time, ParseAndFormat) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(microTime(1500), "1970-01-01T00:00:01.500000Z");
  EXPECT_EQ(*parseTime("2026-12-01T18:59:16Z"), *parseTime("2026-12-01T18:59:16+00:00"));
  EXPECT_EQ(*parseTime("2026-12-01T19:59:16+01:00"), *parseTime("2026-12-01T18:59:16Z"));
  EXPECT_EQ(*parseTime("1970-01-01T00:00:01.250000Z"), 1250);
  EXPECT_FALSE(parseTime("yesterday"));
}

TEST(Table, ServiceCellsAsTheSeed) {
  int64_t created = *parseTime("2026-12-01T10:00:00Z");
  json lb = json::parse(R"({"metadata":{"name":"nginx-lb1","creationTimestamp":"2026-12-01T10:00:00Z"},
    "spec":{"type":"LoadBalancer","clusterIP":"10.100.178.3","clusterIPs":["10.100.178.3"],
      "ports":[{"port":55002,"nodePort":32403,"protocol":"TCP"}],"selector":{"what":"nginx-test"}},
    "status":{"loadBalancer":{"ingress":[{"hostname":"llb-198.18.100.10"}]}}})");
  EXPECT_EQ(
      tableCells("services", lb, created + 15000),
      json::parse(
          R"(["nginx-lb1","LoadBalancer","10.100.178.3","llb-198.18.100.10","55002:32403/TCP","15s","what=nginx-test"])"));
  lb["status"] = json::parse(R"({"loadBalancer":{}})");
  EXPECT_EQ(tableCells("services", lb, created)[3], "<pending>");
  lb["status"] =
      json::parse(R"({"loadBalancer":{"ingress":[{"ip":"2.2.2.2"},{"ip":"1.1.1.1"},{"ip":"2.2.2.2"}]}})");
  lb["spec"]["externalIPs"] = {"9.9.9.9"};
  EXPECT_EQ(tableCells("services", lb, created)[3], "1.1.1.1,2.2.2.2,9.9.9.9");
  json k = json::parse(R"({"metadata":{"name":"kubernetes","creationTimestamp":"2026-11-30T12:00:00Z"},
    "spec":{"type":"ClusterIP","clusterIP":"10.100.0.1","ports":[{"port":443,"protocol":"TCP"}]}})");
  EXPECT_EQ(tableCells("services", k, created),
            json::parse(R"(["kubernetes","ClusterIP","10.100.0.1","<none>","443/TCP","22h","<none>"])"));
  auto cols = tableColumns("services");
  EXPECT_EQ(cols[4]["name"], "Port(s)");
  EXPECT_EQ(cols[6]["priority"], 1);
}

TEST(Table, PodNodeSliceCells) {
  json pod = json::parse(R"({"metadata":{"name":"nginx-test","creationTimestamp":"1970-01-01T00:00:00Z"},
    "spec":{"containers":[{"name":"c"}],"nodeName":"n1"},
    "status":{"phase":"Running","podIPs":[{"ip":"192.168.218.100"}],
      "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}})");
  EXPECT_EQ(
      tableCells("pods", pod, 60000),
      json::parse(R"(["nginx-test","1/1","Running","0","60s","192.168.218.100","n1","<none>","<none>"])"));
  pod["status"]["containerStatuses"][0]["state"] = json::parse(R"({"waiting":{"reason":"ErrImagePull"}})");
  pod["status"]["containerStatuses"][0]["ready"] = false;
  EXPECT_EQ(tableCells("pods", pod, 0)[2], "ErrImagePull");
  pod["metadata"]["deletionTimestamp"] = "1970-01-01T00:00:30Z";
  EXPECT_EQ(tableCells("pods", pod, 0)[2], "Terminating");
  json node =
      json::parse(R"({"metadata":{"name":"ip-1","labels":{"node-role.kubernetes.io/control-plane":""}},
    "spec":{"unschedulable":true},
    "status":{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.32.0"},
      "addresses":[{"type":"InternalIP","address":"192.168.218.10"}]}})");
  auto nc = tableCells("nodes", node, 0);
  EXPECT_EQ(nc[1], "Ready,SchedulingDisabled");
  EXPECT_EQ(nc[2], "control-plane");
  EXPECT_EQ(nc[4], "v1.32.0");
  EXPECT_EQ(nc[5], "192.168.218.10");
  EXPECT_EQ(nc[6], "<none>");
  json slice = json::parse(R"({"metadata":{"name":"s"},"addressType":"IPv4","ports":[{"port":80}],
    "endpoints":[{"addresses":["1.1.1.1"]},{"addresses":["1.1.1.2"]},{"addresses":["1.1.1.3"]},{"addresses":["1.1.1.4"]}]})");
  auto sc = tableCells("endpointslices", slice, 0);
  EXPECT_EQ(sc[2], "80");
  EXPECT_EQ(sc[3], "1.1.1.1,1.1.1.2,1.1.1.3 + 1 more...");
  EXPECT_EQ(tableCells("endpointslices",
                       json::parse(R"({"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[]})"), 0)[3],
            "<unset>");
  EXPECT_EQ(
      tableCells(
          "endpoints",
          json::parse(
              R"({"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"1.1.1.1"}],"ports":[{"port":80}]}]})"),
          0)[1],
      "1.1.1.1:80");
}

TEST(Allocators, NodePortsAndClusterIps) {
  std::mt19937_64 rng(1);
  PortAllocator ports;
  auto p = ports.allocateNext(rng);
  ASSERT_TRUE(p);
  EXPECT_GE(*p, 30000 + 86);  // upper band: 30000-30085 are kept for static requests
  EXPECT_LE(*p, 32767);
  EXPECT_EQ(ports.allocate(*p), "provided port is already allocated");
  EXPECT_EQ(ports.allocate(29999),
            "provided port is not in the valid range. The range of valid ports is 30000-32767");
  EXPECT_EQ(ports.allocate(30080), "");
  ports.release(30080);
  EXPECT_EQ(ports.allocate(30080), "");
  PortAllocator tiny(30000, 30001);
  EXPECT_TRUE(tiny.allocateNext(rng));
  EXPECT_TRUE(tiny.allocateNext(rng));
  EXPECT_FALSE(tiny.allocateNext(rng));

  IpAllocator ips("10.100.0.0/16");
  EXPECT_EQ(ips.nth(1), "10.100.0.1");
  EXPECT_EQ(ips.allocate("10.100.0.1"), "");
  EXPECT_EQ(ips.allocate("10.100.0.1"), "failed to allocate IP 10.100.0.1: provided IP is already allocated");
  EXPECT_NE(
      ips.allocate("10.200.0.1").find("is not in the valid range. The range of valid IPs is 10.100.0.0/16"),
      std::string::npos);
  auto ip = ips.allocateNext(rng);
  ASSERT_TRUE(ip);
  EXPECT_GT(*parseIpv4(*ip), *parseIpv4("10.100.1.0"));  // above the 256 reserved low addresses
}

TEST(OpenApi, MinimalProtobufDocument) {
  std::string doc = openapiV2Protobuf("v1.32.0");
  std::string want = std::string("\x0a\x03") + "2.0" + "\x12\x15\x0a\x0a" + "Kubernetes" + "\x12\x07" +
                     "v1.32.0" + std::string("\x42\x00", 2);
  EXPECT_EQ(doc, want);
}

TEST(Discovery, LegacyAndAggregated) {
  auto core = apiResourceList("", "v1");
  bool svcStatus = false;
  for (const auto& r : core["resources"])
    if (r["name"] == "services/status") svcStatus = true;
  EXPECT_TRUE(svcStatus);
  auto groups = legacyApiGroupList();
  std::vector<std::string> names;
  for (const auto& g : groups["groups"]) names.push_back(g["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"discovery.k8s.io", "coordination.k8s.io", "apps",
                                             "rbac.authorization.k8s.io"}));
  auto agg = aggregatedDiscovery(true);
  EXPECT_EQ(agg["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(agg["items"][0]["metadata"]["name"], "");
}

TEST(Schema, UnknownFieldsAndPruning) {
  const ResourceInfo* svc = findResource("", "v1", "services");
  ASSERT_NE(svc, nullptr);
  json o = json::parse(R"({"metadata":{"name":"x","bogus":1},"spec":{"ports":[{"port":1,"x":2}],"selector":{"any":"thing"}},"extra":{}})");
  auto u = unknownFields(*svc, o);
  EXPECT_EQ(u, (std::vector<std::string>{"extra", "metadata.bogus", "spec.ports[0].x"}));
  for (const auto& p : u) eraseFieldPath(o, p);
  EXPECT_EQ(o, json::parse(R"({"metadata":{"name":"x"},"spec":{"ports":[{"port":1}],"selector":{"any":"thing"}}})"));
  EXPECT_TRUE(unknownFields(*svc, o).empty());
}
