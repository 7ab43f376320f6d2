// Token buckets, fault injection, latency model and the SigV4 verifier.
#include <gtest/gtest.h>

#include "sim/policy.h"
#include "sim/sigv4.h"

namespace floatlb::sim {
namespace {

TEST(Throttler, MutatingBucketDrainsAndRefillsAtFivePerSecond) {
  FakeClock clock;
  Throttler t(clock);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(t.admit("AssociateAddress", false).ok()) << i;
  auto denied = t.admit("AssociateAddress", false);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "RequestLimitExceeded");
  EXPECT_EQ(denied.error().http_status, 503);
  clock.advance(std::chrono::milliseconds(200));  // 5/s -> exactly one token
  EXPECT_TRUE(t.admit("AttachNetworkInterface", false).ok());
  EXPECT_FALSE(t.admit("CreateSubnet", false).ok());
  // Describe calls use their own bucket and are unaffected.
  EXPECT_TRUE(t.admit("DescribeSubnets", false).ok());
}

TEST(Throttler, BucketSelectionFollowsTheEc2Categories) {
  EXPECT_EQ(Throttler::bucketFor("DescribeInstances", true), "describe-unfiltered");
  EXPECT_EQ(Throttler::bucketFor("DescribeInstances", false), "describe");
  EXPECT_EQ(Throttler::bucketFor("DescribeAddresses", true), "describe");
  EXPECT_EQ(Throttler::bucketFor("CreateTags", false), "CreateTags");
  EXPECT_EQ(Throttler::bucketFor("AssociateAddress", false), "mutating");
}

TEST(Throttler, ConfigureAndDisable) {
  FakeClock clock;
  Throttler t(clock);
  t.configure("describe", BucketSpec{2, 0});
  EXPECT_TRUE(t.admit("DescribeVpcs", false).ok());
  EXPECT_TRUE(t.admit("DescribeVpcs", false).ok());
  EXPECT_FALSE(t.admit("DescribeVpcs", false).ok());
  t.setEnabled(false);
  EXPECT_TRUE(t.admit("DescribeVpcs", false).ok());
}

TEST(FaultInjector, CountedFaultFiresExactlyNTimes) {
  FaultInjector f;
  f.add(FaultRule{"AssociateAddress", "InternalError", "boom", 500, 2, 1.0, 0});
  EXPECT_FALSE(f.decide("DescribeAddresses").error.has_value());
  EXPECT_EQ(f.decide("AssociateAddress").error->code, "InternalError");
  EXPECT_EQ(f.decide("AssociateAddress").error->http_status, 500);
  EXPECT_FALSE(f.decide("AssociateAddress").error.has_value());
  EXPECT_TRUE(f.rules().empty());
}

TEST(FaultInjector, QueuedErrorRulesFireOnePerCallInOrder) {
  FaultInjector f;
  f.add(FaultRule{"DeleteSubnet", "RequestLimitExceeded", "slow down", 503, 2, 1.0, 0});
  f.add(FaultRule{"DeleteSubnet", "Unavailable", "busy", 503, 1, 1.0, 0});
  f.add(FaultRule{"DeleteSubnet", "", "", 400, 1, 1.0, 40});  // latency only: joins the first call
  auto first = f.decide("DeleteSubnet");
  EXPECT_EQ(first.error->code, "RequestLimitExceeded");
  EXPECT_EQ(first.extra_latency_ms, 40);
  EXPECT_EQ(f.decide("DeleteSubnet").error->code, "RequestLimitExceeded");
  EXPECT_EQ(f.decide("DeleteSubnet").error->code, "Unavailable");
  EXPECT_FALSE(f.decide("DeleteSubnet").error.has_value());
  EXPECT_TRUE(f.rules().empty());
}

TEST(FaultInjector, ProbabilityAndLatency) {
  FaultInjector f(42);
  f.add(FaultRule{"*", "Unavailable", "x", 503, -1, 0.5, 0});
  f.add(FaultRule{"DescribeVpcs", "", "", 400, -1, 1.0, 1500});
  int fired = 0;
  for (int i = 0; i < 1000; ++i) fired += f.decide("CreateSubnet").error.has_value();
  EXPECT_GT(fired, 400);
  EXPECT_LT(fired, 600);
  EXPECT_EQ(f.decide("DescribeVpcs").extra_latency_ms, 1500);
}

TEST(LatencyModel, DefaultsZeroAndOverrides) {
  LatencyModel m;
  EXPECT_EQ(m.latencyMs("CreateNetworkInterface"), 1800);
  EXPECT_EQ(m.latencyMs("DescribeSubnets"), 100);
  EXPECT_EQ(m.latencyMs("DeleteSubnet"), 300);
  m.setZero();
  EXPECT_EQ(m.latencyMs("CreateNetworkInterface"), 0);
  m.set("AssociateAddress", 7);
  EXPECT_EQ(m.latencyMs("AssociateAddress"), 7);
}

// Vector from feasibility.md §7 (botocore SigV4Auth at a frozen clock).
sigv4::Request botocoreVector() {
  sigv4::Request r;
  r.headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  r.headers["host"] = "ec2.ap-northeast-3.amazonaws.com";
  r.headers["x-amz-date"] = "20240102T030405Z";
  r.body = "Action=DescribeAddresses&Version=2016-11-15";
  r.headers["authorization"] =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/ap-northeast-3/ec2/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=ffd52b3d76cad6370a28236a8a154999e9ed8edf017bc1a1823bfd88b39d6d0f";
  return r;
}
const std::map<std::string, std::string> kCreds = {
    {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};

TEST(SigV4, CanonicalRequestMatchesBotocore) {
  auto r = botocoreVector();
  EXPECT_EQ(sigv4::sha256Hex(sigv4::canonicalRequest(r, "content-type;host;x-amz-date")),
            "ee6e16ecebaeb29d3a9ca1507b51933eda1cf01ccf7aa670c8220059e1d27b1f");
}

TEST(SigV4, AcceptsTheBotocoreSignature) { EXPECT_TRUE(sigv4::verify(botocoreVector(), kCreds).ok()); }

TEST(SigV4, RejectsTamperingUnknownKeysAndMissingHeaders) {
  auto r = botocoreVector();
  r.body = "Action=DescribeAddresses&Version=2016-11-16";
  auto st = sigv4::verify(r, kCreds);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(sigv4::verify(botocoreVector(), {{"AKIDOTHER", "x"}}).error().code, "AuthFailure");
  auto noauth = botocoreVector();
  noauth.headers.erase("authorization");
  EXPECT_EQ(sigv4::verify(noauth, kCreds).error().code, "MissingAuthenticationToken");
  auto garbled = botocoreVector();
  garbled.headers["authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024";
  EXPECT_EQ(sigv4::verify(garbled, kCreds).error().code, "IncompleteSignature");
}

TEST(SigV4, ClockSkewBeyondFifteenMinutesIsRequestExpired) {
  const int64_t signed_at = 1704164645000;  // 2024-01-02T03:04:05Z
  EXPECT_TRUE(sigv4::verify(botocoreVector(), kCreds, signed_at + 14 * 60 * 1000).ok());
  EXPECT_EQ(sigv4::verify(botocoreVector(), kCreds, signed_at + 16 * 60 * 1000).error().code,
            "RequestExpired");
}

}  // namespace
}  // namespace floatlb::sim
