#include "cloud/aws/query.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "fakes.h"

namespace floatlb::cloud::aws {
namespace {

using testing::FakeSleeper;
using testing::FakeTransport;
using testing::FixedRandom;

TEST(Query, FormEncodeLikeBotocore) {
  EXPECT_EQ(formEncode("a b+c/d:e=f&g~h-i_j.k"), "a+b%2Bc%2Fd%3Ae%3Df%26g~h-i_j.k");
  EXPECT_EQ(formEncode("\xc3\xa9"), "%C3%A9");
  auto back = formDecode("a=x+y%2Fz&b=&c");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].second, "x y/z");
  EXPECT_EQ(back[1].second, "");
  EXPECT_EQ(back[2].first, "c");
}

TEST(Query, FlattensListsFiltersAndTagSpecs) {
  QueryParams p("CreateSubnet");
  p.setFilters({{"tag:k", {"v1", "v2"}}, {"vpc-id", {"vpc-1"}}})
      .setList("PrivateIpAddress", {"10.0.0.1", "10.0.0.2"})
      .setTagSpecifications({{"subnet", {{"a", "1"}, {"b", "2"}}}})
      .setBool("Force", false)
      .setOptional("Skipped", "");
  EXPECT_EQ(
      p.encode(),
      "Action=CreateSubnet&Version=2016-11-15&Filter.1.Name=tag%3Ak&Filter.1.Value.1=v1&Filter.1.Value.2=v2"
      "&Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1&PrivateIpAddress.1=10.0.0.1&PrivateIpAddress.2=10.0.0.2"
      "&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value="
      "1"
      "&TagSpecification.1.Tag.2.Key=b&TagSpecification.1.Tag.2.Value=2&Force=false");
  ASSERT_NE(p.find("Filter.2.Value.1"), nullptr);
  EXPECT_EQ(*p.find("Filter.2.Value.1"), "vpc-1");
  EXPECT_EQ(p.find("Skipped"), nullptr);
}

// Drives the real Ec2Client with the same inputs botocore serialized (golden/make_vectors.py) and
// compares the wire body byte for byte.
class BotocoreQueryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  FixedRandom rnd_{0.5};
  FakeTransport http_;
  StaticCredentialsProvider creds_{Credentials{"AKID", "SECRET", "", 0}};
  Ec2Client client_{Ec2ClientOptions{"https://ec2.eu-west-1.amazonaws.com", "eu-west-1", {}, true},
                    Ec2ClientDeps{http_, creds_, clock_, sleeper_, rnd_}};

  std::string sentBody() {
    EXPECT_FALSE(http_.requests.empty());
    return http_.requests.empty() ? "" : http_.requests.back().body;
  }
};

TEST_F(BotocoreQueryTest, BodiesMatchBotocore) {
  auto doc = nlohmann::json::parse(testing::readGolden("botocore_vectors.json"));
  std::map<std::string, std::string> want;
  for (const auto& q : doc["query"]) want[q["name"].get<std::string>()] = q["body"].get<std::string>();
  ASSERT_EQ(want.size(), 11u);
  // The fake answers every call with an (unparseable for most ops) empty 200: we only look at the body.
  http_.setHandler([](const HttpRequest&) -> Result<HttpResponse> { return HttpResponse{200, {}, "<x/>"}; });

  (void)client_.describeAddresses({{"tag:Name", {"lb-vip"}}}, {"203.0.113.10"});
  EXPECT_EQ(sentBody(), want["DescribeAddresses"]);
  (void)client_.associateAddress({"eipalloc-1", "eni-1", "", "124.124.124.250", true});
  EXPECT_EQ(sentBody(), want["AssociateAddress"]);
  (void)client_.assignPrivateIpAddresses("eni-1", {"10.0.0.5", "10.0.0.6"}, true);
  EXPECT_EQ(sentBody(), want["AssignPrivateIpAddresses"]);
  (void)client_.modifySourceDestCheck("eni-1", false);
  EXPECT_EQ(sentBody(), want["ModifyNetworkInterfaceAttribute"]);
  (void)client_.createSubnet({"vpc-1",
                              "124.124.124.0/24",
                              "eu-west-1a",
                              {{"subnet", {{"floatlbType", "floatlb-subnet0"}, {"Name", "a b+c"}}}}});
  EXPECT_EQ(sentBody(), want["CreateSubnet"]);
  (void)client_.detachNetworkInterface("eni-attach-1", true);
  EXPECT_EQ(sentBody(), want["DetachNetworkInterface"]);
  (void)client_.describeNetworkInterfaces(
      {{"tag:floatlbType", {"floatlb-eni0"}}, {"attachment.instance-id", {"i-1", "i-2"}}});
  EXPECT_EQ(sentBody(), want["DescribeNetworkInterfaces"]);
  (void)client_.createTags({"eni-1", "subnet-1"}, {{"k", "v=1;x"}});
  EXPECT_EQ(sentBody(), want["CreateTags"]);
  (void)client_.attachNetworkInterface("eni-1", "i-1", 1);
  EXPECT_EQ(sentBody(), want["AttachNetworkInterface"]);
  (void)client_.createRoute("rtb-1", "0.0.0.0/0", "igw-1");
  EXPECT_EQ(sentBody(), want["CreateRoute"]);
  RunInstancesRequest run;
  run.imageId = "ami-1";
  run.subnetId = "subnet-1";
  (void)client_.runInstances(run);
  EXPECT_EQ(sentBody(), want["RunInstances"]);
  CreateNetworkInterfaceRequest eni;
  eni.subnetId = "subnet-0abc";
  eni.description = "floatlb eni / test & more";
  eni.groupIds = {"sg-1", "sg-2"};
  eni.tagSpecifications = {{"network-interface", {{"floatlbType", "floatlb-eni0"}}}};
  eni.clientToken = "3f2c0e5e-0b7b-4e0e-9b8d-0a1b2c3d4e5f";
  (void)client_.createNetworkInterface(eni);
  // This one is also the "long-body" SigV4 vector.
  EXPECT_EQ(sentBody(), doc["sigv4"][2]["body"].get<std::string>());
}

}  // namespace
}  // namespace floatlb::cloud::aws
