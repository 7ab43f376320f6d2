#include "operator/options.h"

#include <gtest/gtest.h>

namespace floatlb::kube {
namespace {

std::vector<std::string> seedArgs() {
  return {"--loxiURL=http://192.168.228.108:11111,http://192.168.218.60:11111",
          "--externalCIDR=198.18.100.10/32", "--privateCIDR=192.168.248.254/32", "--setRoles=0.0.0.0",
          "--setLBMode=2"};
}

TEST(Options, SeedArgsBlockVerbatim) {
  auto r = parseOptions(seedArgs());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Options& o = r->options;
  ASSERT_EQ(o.loxi_urls.size(), 2u);
  EXPECT_EQ(o.loxi_urls[0], "http://192.168.228.108:11111");
  EXPECT_EQ(o.loxi_urls[1], "http://192.168.218.60:11111");
  ASSERT_EQ(o.pools.size(), 1u);
  EXPECT_EQ(o.pools[0].name, "defaultPool");
  EXPECT_EQ(o.pools[0].first.str(), "198.18.100.10");
  EXPECT_EQ(o.pools[0].size(), 1u);
  EXPECT_EQ(o.private_ip->str(), "192.168.248.254");
  EXPECT_EQ(o.set_roles->str(), "0.0.0.0");
  EXPECT_EQ(o.lb_mode, 2);
  EXPECT_EQ(o.zone, "llb");
  EXPECT_EQ(o.ingress_mode, IngressMode::kHostname);
}

TEST(Options, GoSingleDashAndSeparateValues) {
  auto r =
      parseOptions({"-loxiURL=http://10.0.0.1:11111", "--cidrPools", "a=10.1.0.1/24,b=10.2.0.0-10.2.0.3",
                    "-setUniqueIP", "--monitor", "--zone=az1", "--leader-elect", "--ingress-ip-mode=proxy"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Options& o = r->options;
  ASSERT_EQ(o.pools.size(), 2u);
  EXPECT_EQ(o.pools[1].size(), 4u);
  EXPECT_TRUE(o.unique_ip);
  EXPECT_TRUE(o.monitor);
  EXPECT_TRUE(o.leader_elect);
  EXPECT_EQ(o.zone, "az1");
  EXPECT_EQ(o.ingress_mode, IngressMode::kProxy);
}

TEST(Options, DefaultPoolAndNoZoneName) {
  auto r = parseOptions({"--loxiURL=http://10.0.0.1:11111", "--noZoneName"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.pools[0].first.str(), "123.123.123.1");
  EXPECT_EQ(r->options.pools[0].last.str(), "123.123.123.254");
  EXPECT_EQ(r->options.ingress_mode, IngressMode::kIp);
}

TEST(Options, UnsupportedFlagsRefusedWithAClearMessage) {
  struct Case {
    std::string flag, words;
  } cases[] = {{"--setBGP=64512", "--setBGP is not supported by floatlb"},
               {"--extBGPPeers=1.1.1.1:65000", "--extBGPPeers is not supported"},
               {"--appendEPs", "--appendEPs is not supported"},
               {"--numZoneInstances=3", "--numZoneInstances is not supported"},
               {"--setLBMode=3", "dsr mode"},
               {"--cidr6Pools=defaultPool=3ffe::1/96", "IPv4 only"},
               {"--config=/opt/x.conf", "--config is not supported"},
               {"--bogus=1", "bogus"}};
  for (const auto& c : cases) {
    auto r = parseOptions({"--loxiURL=http://10.0.0.1:11111", c.flag});
    ASSERT_FALSE(r.ok()) << c.flag;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
  }
  auto r = parseOptions({"--externalCIDR=198.18.100.10/32"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--loxiURL is required"), std::string::npos);
}

TEST(Pool, Syntax) {
  auto host = parsePool("p=123.123.123.1/24");  // host bits: start at the given address
  EXPECT_EQ(host->first.str(), "123.123.123.1");
  EXPECT_EQ(host->last.str(), "123.123.123.254");
  auto late = parsePool("p=192.168.80.250/24");
  EXPECT_EQ(late->first.str(), "192.168.80.250");
  EXPECT_EQ(late->size(), 5u);
  auto aligned = parsePool("p=10.0.0.0/24");  // byte-aligned: network and broadcast skipped
  EXPECT_EQ(aligned->first.str(), "10.0.0.1");
  EXPECT_EQ(aligned->size(), 254u);
  auto odd = parsePool("p=10.0.0.0/30");  // not byte-aligned: all four (kube-loxilb)
  EXPECT_EQ(odd->size(), 4u);
  auto big = parsePool("p=10.0.0.1/16");  // beyond 255 addresses: plain arithmetic
  EXPECT_EQ(big->size(), 65534u);
  auto range = parsePool("p=10.0.0.5-10.0.1.4");
  EXPECT_EQ(range->size(), 256u);
  EXPECT_FALSE(parsePool("p=10.0.0.9-10.0.0.1").ok());
  EXPECT_FALSE(parsePool("p=3ffe::1/96").ok());
  EXPECT_FALSE(parsePool("10.0.0.0/24").ok());
}

}  // namespace
}  // namespace floatlb::kube
