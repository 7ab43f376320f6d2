#include "lb/rule.h"

#include <gtest/gtest.h>

using namespace floatlb;
using namespace floatlb::lb;

namespace {
RuleSpec goodRule() {
  RuleSpec r;
  r.key = {*Ip4::parse("20.20.20.1"), 2020, L4Proto::kTcp, 0};
  r.endpoints = {{*Ip4::parse("31.31.31.1"), 5001, 1}, {*Ip4::parse("32.32.32.1"), 5001, 1}};
  return r;
}
}  // namespace

TEST(RuleValidation, AcceptsAGoodRule) { EXPECT_TRUE(validateRule(goodRule()).ok()); }

TEST(RuleValidation, RejectsBadInputWithReadableMessages) {
  struct Case {
    const char* what;
    std::function<void(RuleSpec&)> mutate;
    const char* expect_in_message;
  };
  std::vector<Case> cases = {
      {"no endpoints", [](RuleSpec& r) { r.endpoints.clear(); }, "at least one endpoint"},
      {"33 endpoints",
       [](RuleSpec& r) {
         r.endpoints.clear();
         for (int i = 0; i < 33; ++i) r.endpoints.push_back({Ip4::fromOctets(10, 0, 0, static_cast<uint8_t>(i + 1)), 80, 1});
       },
       "too many endpoints"},
      {"duplicate endpoint", [](RuleSpec& r) { r.endpoints.push_back(r.endpoints[0]); }, "listed twice"},
      {"zero target port", [](RuleSpec& r) { r.endpoints[0].target_port = 0; }, "targetPort"},
      {"zero port", [](RuleSpec& r) { r.key.port = 0; }, "port"},
      {"sctp", [](RuleSpec& r) { r.key.proto = L4Proto::kSctp; }, "not supported"},
      {"unspecified VIP", [](RuleSpec& r) { r.key.external_ip = Ip4(); }, "0.0.0.0"},
      {"timeout too large", [](RuleSpec& r) { r.inactive_timeout_s = 86401; }, "inactiveTimeOut"},
      {"bad probe type", [](RuleSpec& r) { r.probe.type = "smtp"; }, "probetype"},
      {"ping with port", [](RuleSpec& r) { r.probe = {"ping", 80}; }, "probeport"},
  };
  for (auto& c : cases) {
    RuleSpec r = goodRule();
    c.mutate(r);
    auto s = validateRule(r);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(s.error().message.find(c.expect_in_message), std::string::npos) << c.what << ": " << s.error().message;
  }
}

TEST(RuleSpec, HaInstanceFromName) {
  RuleSpec r = goodRule();
  EXPECT_EQ(r.haInstance(), "llb-inst0");
  r.name = "default_nginx-lb1:llb-inst1";
  EXPECT_EQ(r.haInstance(), "llb-inst1");
}

TEST(RuleSpec, ProbeDefaults) {
  RuleSpec r = goodRule();
  EXPECT_FALSE(r.probesActive());  // default mode, monitor off: like the reference
  r.mode = LbMode::kFullNat;
  EXPECT_TRUE(r.probesActive());
  EXPECT_EQ(r.effectiveProbeType(), "tcp");
  EXPECT_EQ(r.effectiveProbePort(r.endpoints[0]), 5001);
  r.probe.type = "none";
  EXPECT_FALSE(r.probesActive());
}
