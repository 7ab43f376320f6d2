#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "health/endpoint_json.h"

namespace floatlb::health {
namespace {

TEST(EndpointJsonTest, ReferenceShape) {
  FakeClock clock;
  ProbeScheduler sched(clock, nullptr);
  const TargetKey tcp{Ip4::fromOctets(32, 32, 32, 1), ProbeType::kTcp, 80};
  const TargetKey ping{Ip4::fromOctets(32, 32, 32, 2), ProbeType::kPing, 0};
  TargetConfig cfg;
  cfg.retries = 1;
  sched.addTarget(tcp, cfg);
  sched.addTarget(ping, cfg);
  for (const auto& j : sched.takeDue()) {
    sched.report(j, ProbeResult{j.spec.target == ping, std::chrono::microseconds(1200), ""});
  }
  auto j = nlohmann::json::parse(endpointsJson(sched.snapshot()));
  const auto expected = nlohmann::json::parse(R"({"Attr":[
    {"hostName":"32.32.32.1","name":"32.32.32.1_tcp_80","probeType":"tcp","inactiveReTries":1,"probeDuration":60,
     "probePort":80,"probeReq":"","minDelay":"0s","avgDelay":"0s","maxDelay":"0s","currState":"nok"},
    {"hostName":"32.32.32.2","name":"32.32.32.2_ping_0","probeType":"ping","inactiveReTries":1,"probeDuration":60,
     "probePort":0,"probeReq":"","minDelay":"1.2ms","avgDelay":"1.2ms","maxDelay":"1.2ms","currState":"ok"}]})");
  EXPECT_EQ(j, expected);
}

TEST(EndpointJsonTest, EmptyAndNone) {
  EXPECT_EQ(endpointsJson({}), R"({"Attr":[]})");
  FakeClock clock;
  ProbeScheduler sched(clock, nullptr);
  sched.addTarget(TargetKey{Ip4::fromOctets(1, 2, 3, 4), ProbeType::kNone, 0}, TargetConfig{});
  auto j = nlohmann::json::parse(endpointsJson(sched.snapshot()));
  EXPECT_FALSE(j["Attr"][0].contains("probeDuration")) << "reference omits duration/retries for none";
  EXPECT_EQ(j["Attr"][0]["probeType"], "none");
}

}  // namespace
}  // namespace floatlb::health
