// RoutedWorld: a VPC prepared for the routed mode behind the real Ec2Client, answered by a scripted
// transport in EC2's XML shapes (route tables from tests/unit/cloud/golden). Every request is logged
// with its thread and recorded against deploy/iam-policy-routed.json (iam_policy_check.h).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "cloud/takeover/routed.h"
#include "support/iam_policy_check.h"
#include "unit/cloud/fakes.h"

namespace floatlb::cloud::testing {

using aws::testing::FakeSleeper;
using aws::testing::FixedRandom;
using aws::testing::readGolden;
using takeover::RoutedGoal;

inline constexpr const char* kNs = R"( xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")";

inline std::string wrap(const std::string& action, const std::string& inner) {
  return "<?xml version=\"1.0\"?><" + action + "Response" + kNs + "><requestId>r</requestId>" + inner + "</" +
         action + "Response>";
}
inline std::string subnetItem(const std::string& id, const std::string& cidr, const std::string& az,
                              const std::string& tag = "") {
  return "<item><subnetId>" + id + "</subnetId><vpcId>vpc-11ad4878</vpcId><cidrBlock>" + cidr +
         "</cidrBlock><availabilityZone>" + az + "</availabilityZone><state>available</state>" +
         (tag.empty() ? "" : "<tagSet><item><key>loxiType</key><value>" + tag + "</value></item></tagSet>") +
         "</item>";
}
inline std::string eniItem(const std::string& id, const std::vector<std::string>& ips, bool src_dst,
                           const std::string& tag = "", const std::string& public_ip = "") {
  std::string x =
      "<item><networkInterfaceId>" + id +
      "</networkInterfaceId><subnetId>subnet-s</subnetId>"
      "<vpcId>vpc-11ad4878</vpcId><availabilityZone>ap-northeast-3c</availabilityZone><status>in-use"
      "</status><privateIpAddress>" +
      ips.front() + "</privateIpAddress><sourceDestCheck>" + (src_dst ? "true" : "false") +
      "</sourceDestCheck>";
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
// HttpTransport over a handler, safe for the concurrent route writes (FakeTransport records
// requests without a lock).
class HandlerTransport final : public aws::HttpTransport {
 public:
  using Handler = std::function<Result<aws::HttpResponse>(const aws::HttpRequest&)>;
  Result<aws::HttpResponse> send(const aws::HttpRequest& req) override { return handler(req); }
  Handler handler;
};

class RoutedWorld {
 public:
  RoutedWorld() {
    http.handler = [this](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
      const std::string action = req.body.substr(7, req.body.find('&') - 7);
      recordEc2Action(kRoutedModePolicy, action);
      std::lock_guard l(mu);
      log.push_back({action, std::this_thread::get_id()});
      return aws::HttpResponse{200, {}, answer(action, req.body)};
    };
  }
  std::string answer(const std::string& action, const std::string& body) {
    if (action == "DescribeSubnets") {
      return wrap(action,
                  "<subnetSet>" + subnetItem("subnet-a", "192.168.218.0/24", "ap-northeast-3a") +
                      subnetItem("subnet-b", "192.168.228.0/24", "ap-northeast-3b") +
                      subnetItem("subnet-s", "192.168.248.0/24", "ap-northeast-3c", "loxilb-vipsubnet") +
                      "</subnetSet>");
    }
    if (action == "DescribeRouteTables") return tables;
    if (action == "DescribeNetworkInterfaces") {
      if (body.find("tag%3AloxiType") != std::string::npos) {
        return wrap(action,
                    "<networkInterfaceSet>" +
                        eniItem("eni-vip", {"192.168.248.10", "192.168.248.254"}, true, "loxilb-vipeni") +
                        "</networkInterfaceSet>");
      }
      return wrap(action, "<networkInterfaceSet>" +
                              eniItem("eni-me", {"192.168.218.60"}, my_src_dst, "", "198.18.0.60") +
                              "</networkInterfaceSet>");
    }
    if (action == "DescribeAddresses") {
      return wrap(action,
                  "<addressesSet><item><publicIp>198.18.100.1</publicIp><allocationId>eipalloc-1"
                  "</allocationId><associationId>eipassoc-1</associationId><domain>vpc</domain>"
                  "<networkInterfaceId>eni-vip</networkInterfaceId><privateIpAddress>192.168.248.254"
                  "</privateIpAddress></item></addressesSet>");
    }
    if (action == "DescribeInternetGateways") {
      return wrap(action,
                  "<internetGatewaySet><item><internetGatewayId>igw-0abc</internetGatewayId>"
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
  HandlerTransport http;
  aws::StaticCredentialsProvider creds{aws::Credentials{"AKIDEXAMPLE", "secret", "", 0}};
  aws::Ec2Client ec2{aws::Ec2ClientOptions{"http://ec2.test", "ap-northeast-3", {}, false},
                     aws::Ec2ClientDeps{http, creds, clock, sleeper, rnd}};
  std::string tables = readGolden("xml/describe_route_tables_routed.xml");
  bool my_src_dst = false;
  std::mutex mu;
  std::vector<Req> log;
};

}  // namespace floatlb::cloud::testing
