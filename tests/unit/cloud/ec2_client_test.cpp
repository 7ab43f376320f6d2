#include "cloud/aws/ec2_client.h"

#include <gtest/gtest.h>

#include "cloud/aws/query.h"
#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

using namespace std::chrono_literals;
using testing::FakeSleeper;
using testing::FakeTransport;
using testing::FixedRandom;
using testing::headerOf;
using testing::readGolden;

class Ec2ClientTest : public ::testing::Test {
 protected:
  Ec2ClientOptions options(int attempts = 4) {
    Ec2ClientOptions o{"http://127.0.0.1:18777", "ap-northeast-3", {}, true};
    o.retry.maxAttempts = attempts;
    o.retry.baseDelay = 100ms;
    o.retry.maxDelay = 1s;
    o.retry.callTimeout = 3s;
    return o;
  }
  Ec2ClientDeps deps() { return Ec2ClientDeps{http_, creds_, clock_, sleeper_, rnd_}; }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  FixedRandom rnd_{0.5};
  FakeTransport http_;
  StaticCredentialsProvider creds_{Credentials{"AKIDEXAMPLE", "SECRET", "", 0}};
};

TEST_F(Ec2ClientTest, RetriesThrottlingThenSucceeds) {
  Ec2Client c(options(), deps());
  http_.push(503, readGolden("xml/error_request_limit.xml"));
  http_.push(503, readGolden("xml/error_request_limit.xml"));
  http_.push(200, readGolden("xml/describe_addresses.xml"));
  auto r = c.describeAddresses({{"public-ip", {"203.0.113.10"}}}, {});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(http_.requests.size(), 3u);
  // Full jitter with u=0.5: retry 1 -> 50ms, retry 2 -> 100ms; no rate-limit sleeps.
  ASSERT_EQ(sleeper_.sleeps.size(), 2u);
  EXPECT_EQ(sleeper_.sleeps[0], 50ms);
  EXPECT_EQ(sleeper_.sleeps[1], 100ms);
  EXPECT_EQ(c.stats().retries, 2u);
  // Every attempt is freshly signed and carries the per-call timeout.
  for (const auto& req : http_.requests) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "http://127.0.0.1:18777/");
    EXPECT_EQ(req.timeout, 3s);
    EXPECT_EQ(headerOf(req, "Host"), "127.0.0.1:18777");
    EXPECT_EQ(headerOf(req, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
    EXPECT_EQ(headerOf(req, "Authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
    EXPECT_NE(headerOf(req, "Authorization").find("/ap-northeast-3/ec2/aws4_request"), std::string::npos);
    EXPECT_TRUE(headerOf(req, "X-Amz-Security-Token").empty());
  }
}

TEST_F(Ec2ClientTest, NoRetryOnClientError) {
  Ec2Client c(options(), deps());
  http_.push(
      400,
      "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad AZ</Message></Error></Errors>"
      "<RequestID>r-1</RequestID></Response>");
  auto r = c.createSubnet({"vpc-1", "10.0.0.0/24", "nowhere-1z", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidParameterValue");
  EXPECT_EQ(r.error().httpStatus, 400);
  EXPECT_EQ(r.error().requestId, "r-1");
  EXPECT_EQ(r.error().action, "CreateSubnet");
  EXPECT_EQ(r.error().kind, ErrorCode::kInvalidArgument);
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_TRUE(sleeper_.sleeps.empty());
}

TEST_F(Ec2ClientTest, DistinguishesNotFoundFromDependencyViolation) {
  Ec2Client c(options(), deps());
  http_.push(400, readGolden("xml/error_eni_not_found.xml"));
  http_.push(400, readGolden("xml/error_dependency_violation.xml"));
  auto a = c.deleteNetworkInterface("eni-0bad");
  auto b = c.deleteSubnet("subnet-9d4a7b6c");
  ASSERT_FALSE(a.ok());
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(a.error().is("InvalidNetworkInterfaceID.NotFound"));
  EXPECT_TRUE(b.error().is("DependencyViolation"));
  EXPECT_EQ(http_.requests.size(), 2u);
}

TEST_F(Ec2ClientTest, GivesUpAfterMaxAttemptsOnServerErrorsAndNetworkErrors) {
  Ec2Client c(options(3), deps());
  http_.pushError(makeError(ErrorCode::kUnavailable, "connection refused"));
  http_.push(
      500,
      "<Response><Errors><Error><Code>InternalError</Code><Message>x</Message></Error></Errors></Response>");
  http_.pushError(makeError(ErrorCode::kTimeout, "timed out"));
  http_.push(200, readGolden("xml/delete_subnet.xml"));  // never reached
  auto r = c.deleteSubnet("subnet-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(sleeper_.sleeps.size(), 2u);
}

TEST_F(Ec2ClientTest, ClientSideRateLimitDelaysMutatingBurst) {
  Ec2Client c(options(), deps());
  http_.setHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse{200,
                        {},
                        "<AssociateAddressResponse><return>true</return><associationId>eipassoc-1</"
                        "associationId></AssociateAddressResponse>"};
  });
  // Mutating bucket: 50 tokens, 5/s. 50 calls go straight through; the 51st waits ~200ms.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.associateAddress({"eipalloc-1", "eni-1", "", "", true}).ok());
  EXPECT_TRUE(sleeper_.sleeps.empty());
  ASSERT_TRUE(c.associateAddress({"eipalloc-1", "eni-1", "", "", true}).ok());
  ASSERT_EQ(sleeper_.sleeps.size(), 1u);
  EXPECT_EQ(sleeper_.sleeps[0], 200ms);
  EXPECT_EQ(c.stats().rateLimitWaits, 1u);
  // Describe calls use their own bucket and are not delayed.
  http_.setHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse{200, {}, readGolden("xml/describe_subnets.xml")};
  });
  ASSERT_TRUE(c.describeSubnets({{"tag:floatlbType", {"floatlb-subnet0"}}}).ok());
  EXPECT_EQ(sleeper_.sleeps.size(), 1u);
}

TEST_F(Ec2ClientTest, SessionTokenIsSentAndSigned) {
  StaticCredentialsProvider tok{Credentials{"ASIAEXAMPLE", "SECRET", "session-token-1", 0}};
  Ec2Client c(options(), Ec2ClientDeps{http_, tok, clock_, sleeper_, rnd_});
  http_.push(200, readGolden("xml/delete_subnet.xml"));
  ASSERT_TRUE(c.deleteSubnet("subnet-1").ok());
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(headerOf(http_.requests[0], "X-Amz-Security-Token"), "session-token-1");
  EXPECT_NE(headerOf(http_.requests[0], "Authorization")
                .find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            std::string::npos);
}

TEST_F(Ec2ClientTest, FollowsNextTokenPagination) {
  Ec2Client c(options(), deps());
  http_.push(200, readGolden("xml/describe_network_interfaces.xml"));  // has nextToken
  http_.push(200,
             "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item><networkInterfaceId>eni-3</"
             "networkInterfaceId>"
             "</item></networkInterfaceSet></DescribeNetworkInterfacesResponse>");
  auto r = c.describeNetworkInterfaces({{"tag:floatlbType", {"floatlb-eni0"}}});
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].networkInterfaceId, "eni-3");
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(http_.requests[0].body.find("NextToken"), std::string::npos);
  EXPECT_NE(http_.requests[1].body.find("NextToken=token-page-2"), std::string::npos);
}

TEST_F(Ec2ClientTest, MalformedSuccessBodyIsAnErrorWithoutAwsCode) {
  Ec2Client c(options(), deps());
  http_.push(200, "<html>captive portal</html>");
  auto r = c.attachNetworkInterface("eni-1", "i-1", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code.empty());
  EXPECT_EQ(r.error().kind, ErrorCode::kInternal);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(Ec2ClientTest, BadEndpointFailsWithoutSending) {
  Ec2ClientOptions o = options();
  o.endpoint = "ftp://nope";
  Ec2Client c(o, deps());
  auto r = c.deleteSubnet("subnet-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(http_.requests.empty());
}

// FLB_TRY works on AwsResult inside a function that returns a plain Status.
Status useFromPlainResult(Ec2Api& api) {
  FLB_TRY(api.deleteSubnet("subnet-x"));
  return okStatus();
}

TEST_F(Ec2ClientTest, AwsResultConvertsForFlbTry) {
  Ec2Client c(options(), deps());
  http_.push(400, readGolden("xml/error_dependency_violation.xml"));
  Status s = useFromPlainResult(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_NE(s.error().message.find("DependencyViolation"), std::string::npos);
}

// --- routed mode: routes to an ENI, the gateway route table, DryRun ---

TEST_F(Ec2ClientTest, RoutesToAnInterfaceCarryNetworkInterfaceId) {
  Ec2Client c(options(), deps());
  http_.push(200, readGolden("xml/replace_route.xml"));
  http_.push(200, readGolden("xml/create_route.xml"));
  http_.push(200, readGolden("xml/delete_route.xml"));
  ASSERT_TRUE(c.replaceRouteToInterface("rtb-1", "192.168.248.0/24", "eni-1").ok());
  ASSERT_TRUE(c.createRouteToInterface("rtb-2", "192.168.248.0/24", "eni-1").ok());
  ASSERT_TRUE(c.deleteRoute("rtb-2", "192.168.248.0/24").ok());
  ASSERT_EQ(http_.requests.size(), 3u);
  const std::string& rep = http_.requests[0].body;
  EXPECT_EQ(rep.rfind("Action=ReplaceRoute&", 0), 0u) << rep;
  EXPECT_NE(rep.find("DestinationCidrBlock=192.168.248.0%2F24"), std::string::npos) << rep;
  EXPECT_NE(rep.find("NetworkInterfaceId=eni-1"), std::string::npos) << rep;
  EXPECT_NE(rep.find("RouteTableId=rtb-1"), std::string::npos) << rep;
  EXPECT_EQ(rep.find("GatewayId"), std::string::npos) << rep;
  EXPECT_EQ(http_.requests[1].body.rfind("Action=CreateRoute&", 0), 0u);
  EXPECT_NE(http_.requests[1].body.find("NetworkInterfaceId=eni-1"), std::string::npos);
  EXPECT_EQ(http_.requests[2].body.rfind("Action=DeleteRoute&", 0), 0u);
  EXPECT_EQ(http_.requests[2].body.find("NetworkInterfaceId"), std::string::npos);
}

TEST_F(Ec2ClientTest, GatewayRouteTableAssociationReturnsItsId) {
  Ec2Client c(options(), deps());
  http_.push(200, readGolden("xml/associate_gateway_route_table.xml"));
  auto r = c.associateGatewayRouteTable("rtb-gw", "igw-0abc");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, "rtbassoc-0a1b2c3d4e5f60718");
  const std::string& b = http_.requests[0].body;
  EXPECT_NE(b.find("GatewayId=igw-0abc"), std::string::npos) << b;
  EXPECT_EQ(b.find("SubnetId"), std::string::npos) << b;
}

TEST_F(Ec2ClientTest, DescribeRouteTablesParsesEdgeAssociationsEniTargetsAndBlackholes) {
  Ec2Client c(options(), deps());
  http_.push(200, readGolden("xml/describe_route_tables_routed.xml"));
  auto r = c.describeRouteTables({{"route-table-id", {"rtb-0gw000000000000001", "rtb-0main0000000000001"}}});
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 2u);
  const RouteTable& gw = (*r)[0];
  ASSERT_EQ(gw.associations.size(), 1u);
  EXPECT_EQ(gw.associations[0].gatewayId, "igw-0abc");
  EXPECT_EQ(gw.associations[0].subnetId, "");
  ASSERT_EQ(gw.routes.size(), 2u);
  EXPECT_EQ(gw.routes[1].networkInterfaceId, "eni-0aaaaaaaaaaaaaaa1");
  EXPECT_EQ(gw.routes[1].state, "active");
  EXPECT_EQ(findTag(gw.tags, "floatlb-epoch").value_or(""), "7");
  const RouteTable& main = (*r)[1];
  EXPECT_TRUE(main.associations[0].main);
  EXPECT_EQ(main.routes[1].state, "blackhole");
  EXPECT_NE(http_.requests[0].body.find("Filter.1.Name=route-table-id"), std::string::npos);
  EXPECT_NE(http_.requests[0].body.find("Filter.1.Value.2=rtb-0main0000000000001"), std::string::npos);
}

TEST_F(Ec2ClientTest, DryRunOperationMeansAllowedUnauthorizedMeansNot) {
  Ec2Client c(options(), deps());
  http_.push(412, readGolden("xml/error_dry_run.xml"));
  http_.push(403, readGolden("xml/error_unauthorized.xml"));
  http_.push(200, readGolden("xml/replace_route.xml"));
  const std::vector<std::pair<std::string, std::string>> params = {
      {"RouteTableId", "rtb-1"},
      {"DestinationCidrBlock", "192.168.248.0/24"},
      {"NetworkInterfaceId", "eni-1"}};
  EXPECT_TRUE(c.dryRun("ReplaceRoute", params).ok());
  auto denied = c.dryRun("ReplaceRoute", params);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "UnauthorizedOperation");
  auto ignored = c.dryRun("ReplaceRoute", params);  // a server that ignores DryRun is not "allowed"
  ASSERT_FALSE(ignored.ok());
  EXPECT_EQ(ignored.error().code, "DryRunIgnored");
  ASSERT_EQ(http_.requests.size(), 3u);  // 412 and 403 are not retried
  EXPECT_NE(http_.requests[0].body.find("DryRun=true"), std::string::npos);
}

}  // namespace
}  // namespace floatlb::cloud::aws
