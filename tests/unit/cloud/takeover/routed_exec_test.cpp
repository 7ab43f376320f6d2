// RoutedExecutor through the real Ec2Client over a scripted transport (EC2's XML shapes, golden
// route tables): a prepared VPC needs no mutation; the failover is one round of concurrent
// ReplaceRoutes with no read before traffic is back; verify reads once and steps down / re-asserts
// as the rule says. Every action is checked against deploy/iam-policy-routed.json at exit.
#include "cloud/takeover/routed_exec.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "support/iam_policy_check.h"
#include "unit/cloud/fakes.h"

namespace floatlb::cloud::takeover {
namespace {

using namespace std::chrono_literals;
using aws::testing::FakeSleeper;
using aws::testing::FakeTransport;
using aws::testing::FixedRandom;
using aws::testing::readGolden;

constexpr const char* kNs = R"( xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")";

std::string wrap(const std::string& action, const std::string& inner) {
  return "<?xml version=\"1.0\"?><" + action + "Response" + kNs + "><requestId>r</requestId>" + inner + "</" +
         action + "Response>";
}
std::string subnetItem(const std::string& id, const std::string& cidr, const std::string& az,
                       const std::string& tag = "") {
  return "<item><subnetId>" + id + "</subnetId><vpcId>vpc-11ad4878</vpcId><cidrBlock>" + cidr +
         "</cidrBlock><availabilityZone>" + az + "</availabilityZone><state>available</state>" +
         (tag.empty() ? "" : "<tagSet><item><key>loxiType</key><value>" + tag + "</value></item></tagSet>") +
         "</item>";
}
std::string eniItem(const std::string& id, const std::vector<std::string>& ips, bool src_dst,
                    const std::string& tag = "", const std::string& public_ip = "") {
  std::string x = "<item><networkInterfaceId>" + id + "</networkInterfaceId><subnetId>subnet-s</subnetId>"
                  "<vpcId>vpc-11ad4878</vpcId><availabilityZone>ap-northeast-3c</availabilityZone><status>in-use"
                  "</status><privateIpAddress>" + ips.front() + "</privateIpAddress><sourceDestCheck>" +
                  (src_dst ? "true" : "false") + "</sourceDestCheck>";
  if (!public_ip.empty()) x += "<association><publicIp>" + public_ip + "</publicIp></association>";
  x += "<privateIpAddressesSet>";
  for (size_t i = 0; i < ips.size(); ++i) {
    x += "<item><privateIpAddress>" + ips[i] + "</privateIpAddress><primary>" + (i == 0 ? "true" : "false") +
         "</primary></item>";
  }
  x += "</privateIpAddressesSet>";
  if (!tag.empty()) x += "<tagSet><item><key>loxiType</key><value>" + tag + "</value></item></tagSet>";
  return x + "</item>";
}

// A VPC prepared for the routed mode: S (tagged) in 3c, the VIP ENI with the VIP, the EIP on it, the
// gateway table on the IGW (golden XML: S -> eni-0aaaaaaaaaaaaaaa1, the peer, epoch 7 by the peer;
// the main table's S route blackholed).
class RoutedWorld {
 public:
  RoutedWorld() {
    http.setHandler([this](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
      const std::string action = req.body.substr(7, req.body.find('&') - 7);
      testing::recordEc2Action(testing::kRoutedModePolicy, action);
      std::lock_guard l(mu);
      log.push_back({action, std::this_thread::get_id()});
      return aws::HttpResponse{200, {}, answer(action, req.body)};
    });
  }
  std::string answer(const std::string& action, const std::string& body) {
    if (action == "DescribeSubnets") {
      return wrap(action, "<subnetSet>" + subnetItem("subnet-a", "192.168.218.0/24", "ap-northeast-3a") +
                              subnetItem("subnet-b", "192.168.228.0/24", "ap-northeast-3b") +
                              subnetItem("subnet-s", "192.168.248.0/24", "ap-northeast-3c", "loxilb-vipsubnet") +
                              "</subnetSet>");
    }
    if (action == "DescribeRouteTables") return tables;
    if (action == "DescribeNetworkInterfaces") {
      if (body.find("tag%3AloxiType") != std::string::npos) {
        return wrap(action, "<networkInterfaceSet>" +
                                eniItem("eni-vip", {"192.168.248.10", "192.168.248.254"}, true, "loxilb-vipeni") +
                                "</networkInterfaceSet>");
      }
      return wrap(action, "<networkInterfaceSet>" + eniItem("eni-me", {"192.168.218.60"}, my_src_dst, "",
                                                            "198.18.0.60") +
                              "</networkInterfaceSet>");
    }
    if (action == "DescribeAddresses") {
      return wrap(action, "<addressesSet><item><publicIp>198.18.100.1</publicIp><allocationId>eipalloc-1"
                          "</allocationId><associationId>eipassoc-1</associationId><domain>vpc</domain>"
                          "<networkInterfaceId>eni-vip</networkInterfaceId><privateIpAddress>192.168.248.254"
                          "</privateIpAddress></item></addressesSet>");
    }
    if (action == "DescribeInternetGateways") {
      return wrap(action, "<internetGatewaySet><item><internetGatewayId>igw-0abc</internetGatewayId>"
                          "<attachmentSet><item><vpcId>vpc-11ad4878</vpcId><state>available</state></item>"
                          "</attachmentSet></item></internetGatewaySet>");
    }
    return wrap(action, "<return>true</return>");  // ReplaceRoute, CreateRoute, CreateTags, Modify...
  }

  RoutedGoal goal() const {
    RoutedGoal g;
    g.instanceId = "i-0bbbbbbbbbbbbbbb2";
    g.eniId = "eni-me";
    g.availabilityZone = "ap-northeast-3a";
    g.vpcId = "vpc-11ad4878";
    g.cidrBlock = Cidr::parse("192.168.248.0/24").value();
    g.vips = {{Ip4::parse("192.168.248.254").value(), "198.18.100.1"}};
    g.epoch = 8;
    return g;
  }
  struct Req {
    std::string action;
    std::thread::id thread;
  };
  std::vector<Req> since(size_t first) {
    std::lock_guard l(mu);
    return {log.begin() + static_cast<long>(first), log.end()};
  }
  size_t mark() {
    std::lock_guard l(mu);
    return log.size();
  }

  FakeClock clock;
  FakeSleeper sleeper{clock};
  FixedRandom rnd{0.5};
  FakeTransport http;
  aws::StaticCredentialsProvider creds{aws::Credentials{"AKIDEXAMPLE", "secret", "", 0}};
  aws::Ec2Client ec2{aws::Ec2ClientOptions{"http://ec2.test", "ap-northeast-3", {}, false},
                     aws::Ec2ClientDeps{http, creds, clock, sleeper, rnd}};
  std::string tables = readGolden("xml/describe_route_tables_routed.xml");
  bool my_src_dst = false;
  std::mutex mu;
  std::vector<Req> log;
};

TEST(RoutedExec, PreparedVpcNeedsNoMutationAndFailoverIsOneRoundWithoutReads) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(w.goal(), prep).ok()) << prep.error;
  EXPECT_EQ(prep.cycles, 1);
  for (const auto& c : prep.calls) EXPECT_TRUE(isDescribe(c.action)) << c.action;
  ASSERT_TRUE(exec.context().has_value());
  EXPECT_EQ(exec.context()->gatewayTableId, "rtb-0gw000000000000001");
  EXPECT_EQ(exec.context()->routeTableIds, std::vector<std::string>{"rtb-0main0000000000001"});

  const size_t first = w.mark();
  auto tl = exec.startTimeline("MASTER (epoch 8)");
  ASSERT_TRUE(exec.failover(w.goal(), tl).ok()) << tl.error;
  // Counted by the transport: everything up to the last route write is the critical path.
  const auto reqs = w.since(first);
  size_t writes = 0;
  std::set<std::thread::id> threads;
  for (const auto& r : reqs) {
    if (r.action == "CreateTags") break;  // the epoch tag comes after traffic is back
    EXPECT_EQ(r.action, "ReplaceRoute") << "no read, no waiter before traffic is back";
    ++writes;
    threads.insert(r.thread);
  }
  EXPECT_EQ(writes, 2u) << "the gateway table and the main table";
  EXPECT_EQ(threads.size(), 2u) << "issued together, one round";
  EXPECT_EQ(tl.criticalSerialCalls(), 1u) << tl.json();
  EXPECT_EQ(tl.criticalReads(), 0u);
  EXPECT_EQ(tl.mode, "routed");
  ASSERT_TRUE(tl.restoredMs.has_value());
  EXPECT_EQ(reqs.back().action, "CreateTags");
  EXPECT_NE(tl.json().find("\"mode\":\"routed\""), std::string::npos);
}

TEST(RoutedExec, VerifyStepsDownWhenANewerPeerHoldsTheRoutesAndWritesNothing) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  RoutedGoal g = w.goal();
  g.epoch = 6;  // the golden gateway table is tagged epoch 7 by the peer
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(g, prep).ok());
  const size_t first = w.mark();
  auto tl = exec.startTimeline("verify");
  auto v = exec.verify(g, tl);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kind, RoutedVerdict::Kind::kStepDown) << v->reason;
  const auto reqs = w.since(first);
  ASSERT_EQ(reqs.size(), 1u) << "one DescribeRouteTables, no write against the peer";
  EXPECT_EQ(reqs[0].action, "DescribeRouteTables");
}

TEST(RoutedExec, VerifyTakesBackRoutesFromAStaleWriter) {
  RoutedWorld w;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  RoutedGoal g = w.goal();  // epoch 8 > the peer's 7
  auto prep = exec.startTimeline("prepare");
  ASSERT_TRUE(exec.prepare(g, prep).ok());
  const size_t first = w.mark();
  auto tl = exec.startTimeline("verify");
  auto v = exec.verify(g, tl);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kind, RoutedVerdict::Kind::kReassert);
  std::map<std::string, int> n;
  for (const auto& r : w.since(first)) ++n[r.action];
  EXPECT_EQ(n["DescribeRouteTables"], 1);
  EXPECT_EQ(n["ReplaceRoute"], 2);
  EXPECT_EQ(n["CreateTags"], 1) << "my epoch on the gateway table";
}

TEST(RoutedExec, CheckFindingsReportAForgottenSourceDestCheck) {
  RoutedWorld w;
  w.my_src_dst = true;
  RoutedExecutor exec(w.ec2, w.clock, w.sleeper);
  auto tl = exec.startTimeline("check");
  auto obs = exec.observe(w.goal(), tl);
  ASSERT_TRUE(obs.ok());
  const auto findings = routedFindings(w.goal(), *obs);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].find("source/dest check is on"), std::string::npos) << findings[0];
  w.my_src_dst = false;
  auto obs2 = exec.observe(w.goal(), tl);
  ASSERT_TRUE(obs2.ok());
  EXPECT_TRUE(routedFindings(w.goal(), *obs2).empty());
}

}  // namespace
}  // namespace floatlb::cloud::takeover
