#include "cloud/aws/imds.h"

#include <gtest/gtest.h>

#include <map>

#include "cloud/aws/config.h"
#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;
using testing::headerOf;

// A tiny IMDSv2 model: issues tokens, rejects GETs without a current token, serves a path map.
class FakeImds {
 public:
  explicit FakeImds(FakeTransport& t) {
    t.setHandler([this](const HttpRequest& r) { return handle(r); });
  }
  Result<HttpResponse> handle(const HttpRequest& r) {
    const std::string base = "http://169.254.169.254";
    if (r.method == "PUT" && r.url == base + "/latest/api/token") {
      ++tokens_issued;
      last_ttl = headerOf(r, "X-aws-ec2-metadata-token-ttl-seconds");
      current = "tok-" + std::to_string(tokens_issued);
      return HttpResponse{200, {}, current};
    }
    if (r.method != "GET") return HttpResponse{405, {}, ""};
    if (headerOf(r, "X-aws-ec2-metadata-token") != current) return HttpResponse{401, {}, ""};
    std::string prefix = base + "/latest/meta-data/";
    if (r.url.rfind(prefix, 0) != 0) return HttpResponse{404, {}, ""};
    auto it = paths.find(r.url.substr(prefix.size()));
    if (it == paths.end()) return HttpResponse{404, {}, ""};
    return HttpResponse{200, {}, it->second};
  }

  std::map<std::string, std::string> paths;
  std::string current;
  std::string last_ttl;
  int tokens_issued = 0;
};

class ImdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    imds_.paths = {
        {"instance-id", "i-0123456789abcdef0"},
        {"placement/availability-zone", "ap-northeast-3a"},
        {"mac", "06:1a:2b:3c:4d:5e"},
        {"network/interfaces/macs/", "06:1a:2b:3c:4d:5e/\n06:1a:2b:3c:4d:5f/"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/vpc-id", "vpc-1"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/subnet-id", "subnet-1"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/subnet-ipv4-cidr-block", "10.0.1.0/24"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/device-number", "0"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/interface-id", "eni-1"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/security-group-ids", "sg-1\nsg-2"},
        {"network/interfaces/macs/06:1a:2b:3c:4d:5e/local-ipv4s", "10.0.1.5\n10.0.1.250\n"},
        {"iam/security-credentials/", "lb-role"},
        {"iam/security-credentials/lb-role",
         R"({"Code":"Success","LastUpdated":"2023-11-14T20:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAEXAMPLE",)"
         R"("SecretAccessKey":"secret","Token":"token-1","Expiration":"2023-11-14T23:13:20Z"})"},
    };
  }
  FakeClock clock_;
  FakeTransport http_;
  FakeImds imds_{http_};
};

TEST_F(ImdsTest, TokenThenMetadata) {
  ImdsClient c(http_, clock_);
  EXPECT_EQ(c.instanceId().valueOr(""), "i-0123456789abcdef0");
  EXPECT_EQ(c.availabilityZone().valueOr(""), "ap-northeast-3a");
  EXPECT_EQ(c.region().valueOr(""), "ap-northeast-3");  // derived from the AZ (no placement/region)
  EXPECT_EQ(imds_.tokens_issued, 1);                    // token is reused
  EXPECT_EQ(imds_.last_ttl, "21600");
  EXPECT_EQ(http_.requests[0].method, "PUT");
  // An explicit empty body: vpcsim's cpp-httplib rejects a PUT without Content-Length.
  EXPECT_EQ(headerOf(http_.requests[0], "Content-Length"), "0");
  EXPECT_EQ(c.getMetadata("nope").error().code, ErrorCode::kNotFound);
}

TEST_F(ImdsTest, InterfaceInfo) {
  ImdsClient c(http_, clock_);
  auto macs = c.macs();
  ASSERT_TRUE(macs.ok());
  EXPECT_EQ(*macs, (std::vector<std::string>{"06:1a:2b:3c:4d:5e", "06:1a:2b:3c:4d:5f"}));
  auto info = c.interfaceInfo("06:1a:2b:3c:4d:5e");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->vpcId, "vpc-1");
  EXPECT_EQ(info->subnetId, "subnet-1");
  EXPECT_EQ(info->subnetCidr, "10.0.1.0/24");
  EXPECT_EQ(info->deviceNumber, 0);
  EXPECT_EQ(info->interfaceId, "eni-1");
  EXPECT_EQ(info->securityGroupIds, (std::vector<std::string>{"sg-1", "sg-2"}));
  EXPECT_EQ(info->localIpv4s, (std::vector<std::string>{"10.0.1.5", "10.0.1.250"}));
}

TEST_F(ImdsTest, RefreshesTokenOn401) {
  ImdsClient c(http_, clock_);
  ASSERT_TRUE(c.instanceId().ok());
  imds_.current = "revoked";  // server forgets our token
  auto r = c.mac();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imds_.tokens_issued, 2);
}

TEST_F(ImdsTest, RefreshesTokenBeforeExpiry) {
  ImdsConfig cfg;
  cfg.tokenTtlSec = 600;
  cfg.refreshBefore = 60s;
  ImdsClient c(http_, clock_, cfg);
  ASSERT_TRUE(c.instanceId().ok());
  clock_.advance(539s);
  ASSERT_TRUE(c.instanceId().ok());
  EXPECT_EQ(imds_.tokens_issued, 1);
  clock_.advance(2s);  // now within 60 s of the 600 s TTL
  ASSERT_TRUE(c.instanceId().ok());
  EXPECT_EQ(imds_.tokens_issued, 2);
  EXPECT_EQ(imds_.last_ttl, "600");
}

TEST_F(ImdsTest, InstanceProfileCredentialsRefreshBeforeExpiration) {
  ImdsClient c(http_, clock_);
  auto creds = c.instanceProfileCredentials();
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds->accessKeyId, "ASIAEXAMPLE");
  EXPECT_EQ(creds->sessionToken, "token-1");
  EXPECT_EQ(creds->expiresEpochSec, 1700003600);  // 2023-11-14T23:13:20Z

  // FakeClock wall time starts at 1'700'001'000 s; credentials expire 2600 s later.
  int fetches = 0;
  RefreshingCredentialsProvider p(
      [&] {
        ++fetches;
        return c.instanceProfileCredentials();
      },
      clock_, 5min);
  ASSERT_TRUE(p.get().ok());
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(fetches, 1);
  clock_.advance(2600s - 5min - 1s);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(fetches, 1);
  clock_.advance(2s);  // inside the 5 min refresh window
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(fetches, 2);
  p.invalidate();
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(fetches, 3);
}

TEST(ImdsParse, CredentialsJsonErrors) {
  EXPECT_FALSE(parseImdsCredentialsJson("{").ok());
  EXPECT_FALSE(parseImdsCredentialsJson(R"({"Code":"Failure"})").ok());
  EXPECT_FALSE(parseImdsCredentialsJson(R"({"AccessKeyId":"a"})").ok());
  EXPECT_FALSE(
      parseImdsCredentialsJson(R"({"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"soon"})").ok());
  auto ok = parseImdsCredentialsJson(R"({"AccessKeyId":"a","SecretAccessKey":"b"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->expiresEpochSec, 0);
  EXPECT_EQ(splitImdsList("a/\n\nb\n"), (std::vector<std::string>{"a", "b"}));
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& m, std::string_view k) {
  auto it = m.find(std::string(k));
  if (it == m.end()) return std::nullopt;
  return it->second;
}

TEST(AwsConfig, EnvironmentPrecedence) {
  std::map<std::string, std::string> env = {{"AWS_DEFAULT_REGION", "eu-west-1"}};
  auto e = [&](std::string_view k) { return lookup(env, k); };
  AwsConfig c = loadAwsConfig(e);
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.endpoint, "https://ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(c.imdsEndpoint, "http://169.254.169.254");
  env["AWS_REGION"] = "ap-northeast-3";
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/";
  env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9001";
  c = loadAwsConfig(e);
  EXPECT_EQ(c.region, "ap-northeast-3");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c.imdsEndpoint, "http://127.0.0.1:9001");
  env["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:5000";
  EXPECT_EQ(loadAwsConfig(e).endpoint, "http://127.0.0.1:5000");

  std::map<std::string, std::string> none;
  auto n = [&](std::string_view k) { return lookup(none, k); };
  AwsConfig empty = loadAwsConfig(n);
  EXPECT_TRUE(empty.endpoint.empty());
  EXPECT_FALSE(finalizeRegion(empty, "").ok());
  ASSERT_TRUE(finalizeRegion(empty, "us-east-2").ok());
  EXPECT_EQ(empty.endpoint, "https://ec2.us-east-2.amazonaws.com");
}

TEST(AwsConfig, StaticCredentialsWinOverImds) {
  FakeClock clock;
  FakeTransport http;  // any IMDS call would fail: no scripted response
  ImdsClient imds(http, clock);
  std::map<std::string, std::string> env = {
      {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_SESSION_TOKEN", "T"}};
  auto e = [&](std::string_view k) { return lookup(env, k); };
  auto p = makeDefaultCredentialsProvider(e, imds, clock);
  auto c = p->get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->accessKeyId, "AKID");
  EXPECT_EQ(c->sessionToken, "T");
  EXPECT_TRUE(http.requests.empty());
  env.erase("AWS_SECRET_ACCESS_KEY");
  auto q = makeDefaultCredentialsProvider(e, imds, clock);
  EXPECT_FALSE(q->get().ok());  // falls back to IMDS, which is unreachable here
  EXPECT_FALSE(http.requests.empty());
}

}  // namespace
}  // namespace floatlb::cloud::aws
