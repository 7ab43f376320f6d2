// Endpoints, the rule body (golden JSON, accepted by floatlb's own parser), status formats, roles.
#include <gtest/gtest.h>

#include "api/json_codec.h"
#include "operator/endpoints.h"
#include "operator/roles.h"
#include "operator/rule.h"
#include "operator/status.h"

namespace floatlb::kube {
namespace {

using k8s::Json;

NodeView node(const std::string& name, const std::string& ip, bool ready = true) {
  NodeView n;
  n.name = name;
  n.ready = ready;
  n.internal_ip = *Ip4::parse(ip);
  return n;
}

SliceView slice(
    std::vector<std::tuple<std::string, std::string, bool, bool>> eps) {  // ip, node, ready, terminating
  SliceView s;
  s.ns = "default";
  s.name = "nginx-lb1-abcde";
  s.service_name = "nginx-lb1";
  for (auto& [ip, n, ready, term] : eps) {
    SliceEndpoint e;
    e.addresses = {*Ip4::parse(ip)};
    e.node_name = n;
    e.ready = ready;
    e.serving = true;
    e.terminating = term;
    s.endpoints.push_back(e);
  }
  s.ports = {{"", "TCP", 80}};
  return s;
}

TEST(Endpoints, ClusterPolicyIsEveryReadyNodeNotExcluded) {
  std::map<std::string, NodeView> nodes{{"n1", node("n1", "192.168.218.10")},
                                        {"n2", node("n2", "192.168.228.10")},
                                        {"n3", node("n3", "192.168.218.11", false)},
                                        {"n4", node("n4", "192.168.218.12")}};
  nodes["n4"].labels[kExcludeLabel] = "";
  ServiceView svc;
  ServicePort p{"", "TCP", 55002, 31634, "80"};
  auto eps = computeEndpoints(svc, p, nodes, {}, {});
  ASSERT_EQ(eps.endpoints.size(), 2u);
  EXPECT_EQ(eps.endpoints[0].ip.str(), "192.168.218.10");
  EXPECT_EQ(eps.endpoints[0].port, 31634);
  EXPECT_EQ(eps.endpoints[1].ip.str(), "192.168.228.10");
}

TEST(Endpoints, LocalPolicyIsOnlyNodesWithAReadyEndpoint) {
  std::map<std::string, NodeView> nodes{{"n1", node("n1", "192.168.218.10")},
                                        {"n2", node("n2", "192.168.228.10")}};
  ServiceView svc;
  svc.etp_local = true;
  ServicePort p{"", "TCP", 55002, 31634, "80"};
  SliceView s = slice({{"192.168.218.50", "n1", true, false}, {"192.168.228.50", "n2", false, false}});
  auto eps = computeEndpoints(svc, p, nodes, {&s}, {});
  ASSERT_EQ(eps.endpoints.size(), 1u);
  EXPECT_EQ(eps.endpoints[0].ip.str(), "192.168.218.10");
  // The pod moves: n1's endpoint terminating (still serving), n2's ready -> only n2.
  SliceView moved = slice({{"192.168.218.50", "n1", false, true}, {"192.168.228.51", "n2", true, false}});
  eps = computeEndpoints(svc, p, nodes, {&moved}, {});
  ASSERT_EQ(eps.endpoints.size(), 1u);
  EXPECT_EQ(eps.endpoints[0].ip.str(), "192.168.228.10");
  // Only terminating-but-serving endpoints left: drain to their nodes.
  SliceView draining = slice({{"192.168.218.50", "n1", false, true}});
  eps = computeEndpoints(svc, p, nodes, {&draining}, {});
  ASSERT_EQ(eps.endpoints.size(), 1u);
  // No endpoint at all: empty.
  SliceView none = slice({});
  EXPECT_TRUE(computeEndpoints(svc, p, nodes, {&none}, {}).endpoints.empty());
}

TEST(Endpoints, PodNetworkNodeLabelAndCap) {
  std::map<std::string, NodeView> nodes;
  for (int i = 0; i < 40; ++i) {
    auto n = node("n" + std::to_string(i), "10.0.1." + std::to_string(i + 1));
    if (i % 2 == 0) n.labels["lb"] = "yes";
    nodes[n.name] = n;
  }
  ServiceView svc;
  ServicePort p{"http", "TCP", 80, 30080, "web"};
  auto all = computeEndpoints(svc, p, nodes, {}, {});
  EXPECT_EQ(all.endpoints.size(), kMaxEndpoints);
  EXPECT_EQ(all.dropped, 8u);
  std::string label = "lb";
  EndpointQuery q;
  q.node_label = &label;
  EXPECT_EQ(computeEndpoints(svc, p, nodes, {}, q).endpoints.size(), 20u);
  SliceView s = slice({{"10.244.0.5", "n0", true, false}, {"10.244.0.6", "n1", false, false}});
  s.ports = {{"http", "TCP", 8080}};  // named targetPort resolved through the slice port of that name
  EndpointQuery pq;
  pq.pod_network = true;
  auto pods = computeEndpoints(svc, p, nodes, {&s}, pq);
  ASSERT_EQ(pods.endpoints.size(), 1u);
  EXPECT_EQ(pods.endpoints[0].ip.str(), "10.244.0.5");
  EXPECT_EQ(pods.endpoints[0].port, 8080);
}

LbRule seedRule() {
  LbRule r;
  r.external_ip = *Ip4::parse("198.18.100.10");
  r.private_ip = *Ip4::parse("192.168.248.254");
  r.port = 55002;
  r.protocol = "tcp";
  r.mode = 2;
  r.name = ruleName("default", "nginx-lb1", "llb");
  r.endpoints = {{*Ip4::parse("192.168.218.10"), 31634}};
  return r;
}

TEST(RuleBody, GoldenJsonIsKubeLoxilbsBody) {
  // kubernetes.md §1.6, byte for byte (kube-loxilb's Go struct order).
  const char* golden =
      R"({"serviceArguments":{"externalIP":"198.18.100.10","privateIP":"192.168.248.254","port":55002,)"
      R"("protocol":"tcp","sel":0,"mode":2,"BGP":false,"Monitor":false,"inactiveTimeOut":1800,"block":0,)"
      R"("managed":true,"probetype":"","probeport":0,"probereq":"","proberesp":"",)"
      R"("name":"default_nginx-lb1:llb-inst0"},"secondaryIPs":[],"allowedSources":[],)"
      R"("endpoints":[{"endpointIP":"192.168.218.10","targetPort":31634,"weight":1,"state":"","counter":""}]})";
  EXPECT_EQ(encodeRule(seedRule()), golden);
  EXPECT_EQ(deletePath(seedRule()),
            "/netlox/v1/config/loadbalancer/externalipaddress/198.18.100.10/port/55002/protocol/"
            "tcp?bgp=false&block=0");
}

TEST(RuleBody, FloatlbsParserAcceptsItAndTheListRoundTrips) {
  LbRule r = seedRule();
  auto spec = api::parseLoadBalancerEntry(encodeRule(r));
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->name, "default_nginx-lb1:llb-inst0");
  EXPECT_EQ(spec->key.port, 55002);
  ASSERT_EQ(spec->endpoints.size(), 1u);
  // GET /config/loadbalancer/all as floatlb encodes it, parsed back: the drift check sees no change.
  lb::RuleStatus st;
  st.spec = *spec;
  for (const auto& e : spec->endpoints) st.endpoints.push_back({e, 0, true, 0, 0});
  auto list = parseRuleList(api::encodeLoadBalancerList({st}));
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].sameAs(r));
  LbRule moved = r;
  moved.endpoints[0].ip = *Ip4::parse("192.168.228.10");
  EXPECT_FALSE((*list)[0].sameAs(moved));
}

TEST(RuleBody, OwnerOfOurNamesOnly) {
  EXPECT_EQ(ownerOf("default_nginx-lb1:llb-inst0", "llb"), "default/nginx-lb1");
  EXPECT_EQ(ownerOf("kube-system_a_b:llb-inst1", "llb"), "kube-system/a_b");
  EXPECT_FALSE(ownerOf("default_nginx-lb1:az1-inst0", "llb"));
  EXPECT_FALSE(ownerOf("manual-rule", "llb"));
  EXPECT_FALSE(ownerOf("_x:llb-inst0", "llb"));
}

TEST(Status, FormatsAndParseBack) {
  Options o;
  Ip4 ip = *Ip4::parse("198.18.100.10");
  auto h = ingressFor(ip, o);
  EXPECT_EQ(k8s::dump(statusPatch(h)),
            R"({"status":{"loadBalancer":{"ingress":[{"hostname":"llb-198.18.100.10"}]}}})");
  o.zone = "az1";
  EXPECT_EQ(ingressFor(ip, o)[0].hostname, "az1-198.18.100.10");
  o.ingress_mode = IngressMode::kIp;
  EXPECT_EQ(k8s::dump(statusPatch(ingressFor(ip, o))),
            R"({"status":{"loadBalancer":{"ingress":[{"ip":"198.18.100.10"}]}}})");
  o.ingress_mode = IngressMode::kProxy;
  EXPECT_EQ(k8s::dump(statusPatch(ingressFor(ip, o))),
            R"({"status":{"loadBalancer":{"ingress":[{"ip":"198.18.100.10","ipMode":"Proxy"}]}}})");
  EXPECT_EQ(k8s::dump(statusPatch({})), R"({"status":{"loadBalancer":{"ingress":null}}})");
  EXPECT_EQ(addressFromStatus({{"", "llb-198.18.100.10", ""}}, "llb")->str(), "198.18.100.10");
  EXPECT_FALSE(addressFromStatus({{"", "az2-198.18.100.10", ""}}, "llb"));  // another zone's entry
  EXPECT_EQ(addressFromStatus({{"198.18.100.11", "", "VIP"}}, "llb")->str(), "198.18.100.11");
  EXPECT_FALSE(addressFromStatus({{"", "llb-not-an-ip", ""}}, "llb"));
}

TEST(Roles, FirstAliveInOrderStickyAndAdopt) {
  RoleElector e;
  auto d = e.decide({{true, std::nullopt}, {true, std::nullopt}});
  EXPECT_EQ(d.master, 0u);
  ASSERT_EQ(d.pushes.size(), 2u);
  EXPECT_EQ(d.pushes[0].state, "MASTER");
  EXPECT_EQ(d.pushes[1].state, "BACKUP");
  // Pushes only where the reported state differs.
  d = e.decide({{true, "MASTER"}, {true, "BACKUP"}});
  EXPECT_TRUE(d.pushes.empty());
  EXPECT_FALSE(d.changed);
  // Master dies: the other is promoted at once; when the old one returns it is told BACKUP.
  d = e.decide({{false, std::nullopt}, {true, "BACKUP"}});
  EXPECT_EQ(d.master, 1u);
  EXPECT_TRUE(d.changed);
  d = e.decide({{true, "MASTER"}, {true, "MASTER"}});
  EXPECT_EQ(d.master, 1u);  // sticky, no pre-emption
  ASSERT_EQ(d.pushes.size(), 1u);
  EXPECT_EQ(d.pushes[0].instance, 0u);
  EXPECT_EQ(d.pushes[0].state, "BACKUP");
  // A fresh elector (operator restart) adopts the instance that already is MASTER.
  RoleElector fresh;
  d = fresh.decide({{true, "BACKUP"}, {true, "MASTER"}});
  EXPECT_EQ(d.master, 1u);
  EXPECT_TRUE(d.pushes.empty());
  // Nobody alive: no master, no pushes.
  RoleElector none;
  EXPECT_FALSE(none.decide({{false, std::nullopt}}).master);
}

}  // namespace
}  // namespace floatlb::kube
