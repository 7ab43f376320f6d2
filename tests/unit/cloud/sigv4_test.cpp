#include "cloud/aws/sigv4.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud/aws/http.h"
#include "common/crypto.h"
#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// AWS SigV4 docs, "IAM ListUsers" example (published canonical-request hash, key and signature).
TEST(SigV4, IamListUsersPublishedExample) {
  SigningInput in;
  in.method = "GET";
  in.host = "iam.amazonaws.com";
  in.path = "/";
  in.query = "Action=ListUsers&Version=2010-05-08";
  in.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  in.region = "us-east-1";
  in.service = "iam";
  in.amzDate = "20150830T123600Z";
  Signature s = signV4(in, Credentials{kAkid, kSecret, "", 0});
  EXPECT_EQ(sha256Hex(s.canonicalRequest),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(crypto::toHex(deriveSigningKey(kSecret, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(s.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  EXPECT_EQ(s.signedHeaders, "content-type;host;x-amz-date");
}

// aws-sig-v4-test-suite get-vanilla / post-vanilla (service "service", us-east-1).
TEST(SigV4, TestSuiteVanilla) {
  SigningInput in;
  in.method = "GET";
  in.host = "example.amazonaws.com";
  in.region = "us-east-1";
  in.service = "service";
  in.amzDate = "20150830T123600Z";
  Signature g = signV4(in, Credentials{kAkid, kSecret, "", 0});
  EXPECT_EQ(g.canonicalRequest,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(g.stringToSign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(g.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  in.method = "POST";
  EXPECT_EQ(signV4(in, Credentials{kAkid, kSecret, "", 0}).signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  // get-vanilla-query-order-key-case: parameters are sorted in the canonical query.
  in.method = "GET";
  in.query = "Param2=value2&Param1=value1";
  EXPECT_EQ(signV4(in, Credentials{kAkid, kSecret, "", 0}).signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, CanonicalQueryEncodesAndSorts) {
  EXPECT_EQ(canonicalQueryString("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
  EXPECT_EQ(canonicalQueryString("k=a/b:c"), "k=a%2Fb%3Ac");
  EXPECT_EQ(canonicalQueryString(""), "");
  EXPECT_EQ(uriEncode("/a b/~x", false), "/a%20b/~x");
}

TEST(SigV4, AmzDateFromEpoch) {
  EXPECT_EQ(amzDate(1704164645), "20240102T030405Z");
  EXPECT_EQ(amzDate(0), "19700101T000000Z");
}

// Vectors produced by botocore's SigV4Auth (golden/make_vectors.py).
TEST(SigV4, BotocoreGoldenVectors) {
  auto doc = nlohmann::json::parse(testing::readGolden("botocore_vectors.json"));
  ASSERT_GE(doc["sigv4"].size(), 4u);
  for (const auto& v : doc["sigv4"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    auto url = parseUrl(v["url"].get<std::string>());
    ASSERT_TRUE(url.ok());
    SigningInput in;
    in.method = "POST";
    in.host = url->hostHeader;
    in.path = url->path;
    in.headers = {{"Content-Type", v["content_type"].get<std::string>()}};
    in.payload = v["body"].get<std::string>();
    in.region = v["region"].get<std::string>();
    in.service = v["service"].get<std::string>();
    in.amzDate = v["amz_date"].get<std::string>();
    Credentials c{v["access_key"], v["secret_key"], v["session_token"], 0};
    Signature s = signV4(in, c);
    EXPECT_EQ(s.canonicalRequest, v["canonical_request"].get<std::string>());
    EXPECT_EQ(s.stringToSign, v["string_to_sign"].get<std::string>());
    EXPECT_EQ(s.authorization, v["authorization"].get<std::string>());
    std::string token;
    for (const auto& [k, val] : s.headersToAdd) {
      if (k == "X-Amz-Security-Token") token = val;
    }
    EXPECT_EQ(token, v["x_amz_security_token"].get<std::string>());
  }
}

TEST(SigV4, FeasibilityVector) {
  SigningInput in;
  in.host = "ec2.ap-northeast-3.amazonaws.com";
  in.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  in.payload = "Action=DescribeAddresses&Version=2016-11-15";
  in.region = "ap-northeast-3";
  in.service = "ec2";
  in.amzDate = "20240102T030405Z";
  EXPECT_EQ(signV4(in, Credentials{kAkid, kSecret, "", 0}).signature,
            "ffd52b3d76cad6370a28236a8a154999e9ed8edf017bc1a1823bfd88b39d6d0f");
  // Any change of the body changes the signature.
  in.payload += "&X=1";
  EXPECT_NE(signV4(in, Credentials{kAkid, kSecret, "", 0}).signature,
            "ffd52b3d76cad6370a28236a8a154999e9ed8edf017bc1a1823bfd88b39d6d0f");
}

TEST(Http, ParseUrl) {
  auto a = parseUrl("https://ec2.eu-west-1.amazonaws.com");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->hostHeader, "ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->path, "/");
  auto b = parseUrl("http://127.0.0.1:5000/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->hostHeader, "127.0.0.1:5000");
  auto c = parseUrl("https://host:443/x?y=1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hostHeader, "host");
  EXPECT_EQ(c->path, "/x");
  EXPECT_FALSE(parseUrl("ftp://x").ok());
  EXPECT_FALSE(parseUrl("no-scheme").ok());
  EXPECT_FALSE(parseUrl("http://h:99999/").ok());
}

}  // namespace
}  // namespace floatlb::cloud::aws
