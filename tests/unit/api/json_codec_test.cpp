#include "api/json_codec.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

using namespace floatlb;
using namespace floatlb::api;

namespace {
// The body kube-loxilb sends (reference kube-loxilb.md §7.2), verbatim.
constexpr const char* kKubeLoxilbBody = R"({
  "serviceArguments": {
    "externalIP": "123.123.123.1",
    "privateIP": "",
    "port": 80,
    "protocol": "tcp",
    "sel": 0,
    "mode": 2,
    "BGP": false,
    "Monitor": false,
    "inactiveTimeOut": 1800,
    "block": 0,
    "managed": true,
    "probetype": "",
    "probeport": 0,
    "probereq": "",
    "proberesp": "",
    "name": "default_nginx-lb:llb-inst0"
  },
  "secondaryIPs": [],
  "allowedSources": [],
  "endpoints": [
    {"endpointIP": "192.168.80.10", "targetPort": 31013, "weight": 1, "state": "", "counter": ""},
    {"endpointIP": "192.168.80.11", "targetPort": 31013, "weight": 1, "state": "", "counter": ""}
  ]
})";
}  // namespace

TEST(LoadBalancerJson, AcceptsKubeLoxilbBodyVerbatim) {
  auto r = parseLoadBalancerEntry(kKubeLoxilbBody);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key.external_ip.str(), "123.123.123.1");
  EXPECT_FALSE(r->private_ip.has_value());
  EXPECT_EQ(r->key.port, 80);
  EXPECT_EQ(r->mode, lb::LbMode::kFullNat);
  EXPECT_EQ(r->inactive_timeout_s, 1800u);
  EXPECT_TRUE(r->managed);
  EXPECT_EQ(r->name, "default_nginx-lb:llb-inst0");
  ASSERT_EQ(r->endpoints.size(), 2u);
  EXPECT_EQ(r->endpoints[1].ip.str(), "192.168.80.11");
  EXPECT_EQ(r->endpoints[1].target_port, 31013);
}

TEST(LoadBalancerJson, KeysAreCaseInsensitiveAndPrivateIpHonoured) {
  auto r = parseLoadBalancerEntry(
      R"({"SERVICEARGUMENTS":{"ExternalIP":"13.208.10.20","PRIVATEIP":"192.168.248.254","Port":55002,)"
      R"("Protocol":"TCP","Sel":1},"Endpoints":[{"EndpointIP":"192.168.218.10","TargetPort":32403,"Weight":1}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->private_ip.has_value());
  EXPECT_EQ(r->private_ip->str(), "192.168.248.254");
  EXPECT_EQ(r->datapathVip().str(), "192.168.248.254");
  EXPECT_EQ(r->sel, lb::LbSel::kHash);
}

TEST(LoadBalancerJson, BadInputIsRejectedWithAReason) {
  struct Case {
    const char* body;
    const char* expect;
  };
  const Case cases[] = {
      {"{not json", "malformed JSON"},
      {"[]", "must be a JSON object"},
      {R"({"endpoints":[]})", "serviceArguments is required"},
      {R"({"serviceArguments":{"port":80},"endpoints":[]})", "externalIP is required"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.999","port":80},"endpoints":[]})", "not a valid IPv4"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":"80"},"endpoints":[]})", "expected an integer"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":70000},"endpoints":[]})", "out of range"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80,"protocol":"gre"},"endpoints":[]})", "unknown protocol"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80,"mode":3},"endpoints":[]})", "dsr"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80,"mode":9},"endpoints":[]})", "out of range"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80,"sel":6},"endpoints":[]})", "not supported"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80}})", "endpoints is required"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80},"endpoints":[{"endpointIP":"1.1.1.1"}]})",
       "targetPort is required"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80,"monitor":"yes"},"endpoints":[]})",
       "expected true or false"},
      {R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80},"endpoints":[],"allowedSources":[{"prefix":"10.0.0.0/8"}]})",
       "allowedSources"},
  };
  for (const auto& c : cases) {
    auto r = parseLoadBalancerEntry(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.body;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.body << " -> " << r.error().message;
  }
}

TEST(LoadBalancerJson, ThirtyThreeEndpointsRejected) {
  std::string body = R"({"serviceArguments":{"externalIP":"1.2.3.4","port":80},"endpoints":[)";
  for (int i = 0; i < 33; ++i) {
    body += (i ? "," : "") + std::string(R"({"endpointIP":"10.0.0.)") + std::to_string(i + 1) +
            R"(","targetPort":80,"weight":1})";
  }
  body += "]}";
  auto r = parseLoadBalancerEntry(body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too many endpoints"), std::string::npos);
}

TEST(RuleFile, RoundTrips) {
  auto spec = parseLoadBalancerEntry(kKubeLoxilbBody);
  ASSERT_TRUE(spec.ok());
  spec->private_ip = *Ip4::parse("192.168.248.254");
  std::vector<lb::StoredRule> rules = {{42, *spec}};
  auto back = parseRuleFile(encodeRuleFile(rules));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].rule_id, 42u);
  EXPECT_EQ((*back)[0].spec, *spec);
}

TEST(CiStateJson, ParsesAndValidates) {
  auto ok = parseCiState(R"({"instance":"llb-inst0","state":"MASTER","vip":"0.0.0.0"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->state, ha::CiState::kMaster);
  auto bad = parseCiState(R"({"instance":"llb-inst0","state":"LEADER"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("invalid cluster-state"), std::string::npos);
}

TEST(ConntrackJson, ActStrings) {
  dataplane::CtEntry e{};
  e.key.saddr = Ip4::parse("3.3.3.3")->networkOrder();
  e.key.daddr = Ip4::parse("124.124.124.250")->networkOrder();
  e.key.proto = 6;
  e.value.dir = FLB_CT_DIR_FWD;
  e.value.nat.saddr = Ip4::parse("124.124.124.250")->networkOrder();
  e.value.nat.daddr = Ip4::parse("192.168.218.10")->networkOrder();
  e.value.nat.dport = htons(32403);
  EXPECT_EQ(ctActString(e, 1), "fdnat-124.124.124.250,192.168.218.10:32403:w1");
  e.value.nat.saddr = e.key.saddr;  // DNAT keeps the client source
  EXPECT_EQ(ctActString(e, 1), "dnat-192.168.218.10:32403:w1");
}
