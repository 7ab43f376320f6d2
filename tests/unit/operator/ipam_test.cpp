#include "operator/ipam.h"

#include <gtest/gtest.h>

namespace floatlb::kube {
namespace {

PoolDef pool(const std::string& s) { return *parsePool(s); }
std::vector<PortKey> tcp(std::initializer_list<uint16_t> ports) {
  std::vector<PortKey> v;
  for (auto p : ports) v.push_back({p, "tcp"});
  return v;
}

TEST(Ipam, SharedPacksOntoOneAddressUntilAPortCollides) {
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, false);
  EXPECT_EQ(ipam.allocate("ns/a", "defaultPool", tcp({80}))->str(), "10.0.0.1");
  EXPECT_EQ(ipam.allocate("ns/b", "defaultPool", tcp({8080}))->str(), "10.0.0.1");
  EXPECT_EQ(ipam.allocate("ns/c", "defaultPool", tcp({80}))->str(), "10.0.0.2");
  // UDP 80 does not collide with TCP 80.
  EXPECT_EQ(ipam.allocate("ns/d", "defaultPool", {{80, "udp"}})->str(), "10.0.0.1");
}

TEST(Ipam, EveryPortOfAMultiPortServiceIsRegistered) {
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, false);
  EXPECT_EQ(ipam.allocate("ns/web", "defaultPool", tcp({80, 443}))->str(), "10.0.0.1");
  // kube-loxilb registered only the first port: a Service on 443 would have landed on .1 too.
  EXPECT_EQ(ipam.allocate("ns/tls", "defaultPool", tcp({443}))->str(), "10.0.0.2");
}

TEST(Ipam, ExclusiveGivesEachServiceItsOwnAddress) {
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, true);
  EXPECT_EQ(ipam.allocate("ns/a", "defaultPool", tcp({80}))->str(), "10.0.0.1");
  EXPECT_EQ(ipam.allocate("ns/b", "defaultPool", tcp({81}))->str(), "10.0.0.2");
  ipam.release("ns/a");
  EXPECT_EQ(ipam.allocate("ns/c", "defaultPool", tcp({82}))->str(), "10.0.0.1");  // lowest free first
}

TEST(Ipam, ExhaustionIsAnErrorNotAnExitAndReleaseFreesTheAddress) {
  Ipam ipam({pool("defaultPool=198.18.100.10/32")}, false);
  EXPECT_EQ(ipam.allocate("default/nginx-lb1", "defaultPool", tcp({55002}))->str(), "198.18.100.10");
  auto second = ipam.allocate("default/nginx-lb2", "defaultPool", tcp({55002}));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(second.error().message, "no free address in pool defaultPool (1 of 1 used)");
  // Shared IP: another port fits.
  EXPECT_EQ(ipam.allocate("default/other", "defaultPool", tcp({8080}))->str(), "198.18.100.10");
  ipam.release("default/nginx-lb1");
  EXPECT_EQ(ipam.allocate("default/nginx-lb2", "defaultPool", tcp({55002}))->str(), "198.18.100.10");
}

TEST(Ipam, StaticInsideOutsideAndConflicts) {
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, false);
  EXPECT_EQ(ipam.claim("ns/s", *Ip4::parse("10.0.0.1"), tcp({80}))->str(), "10.0.0.1");
  // The reserved static address is not handed out for the same port.
  EXPECT_EQ(ipam.allocate("ns/a", "defaultPool", tcp({80}))->str(), "10.0.0.2");
  auto conflict = ipam.claim("ns/t", *Ip4::parse("10.0.0.1"), tcp({80}));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);
  EXPECT_NE(conflict.error().message.find("ns/s"), std::string::npos);
  // Outside every pool: tracked for conflicts, no pool accounting.
  EXPECT_EQ(ipam.claim("ns/o", *Ip4::parse("192.0.2.7"), tcp({80}))->str(), "192.0.2.7");
  EXPECT_FALSE(ipam.claim("ns/p", *Ip4::parse("192.0.2.7"), tcp({80})).ok());
  EXPECT_EQ(ipam.usedIn(ipam.pools()[0]), 2u);
}

TEST(Ipam, RecoveryReservesBeforeAllocating) {
  // After a restart the statuses are claimed first (creation order), then new Services allocate.
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, true);
  EXPECT_TRUE(ipam.claim("ns/old2", *Ip4::parse("10.0.0.2"), tcp({80})).ok());
  EXPECT_TRUE(ipam.claim("ns/old1", *Ip4::parse("10.0.0.1"), tcp({80})).ok());
  EXPECT_EQ(ipam.allocate("ns/new", "defaultPool", tcp({80}))->str(), "10.0.0.3");
  // A recovered Service keeps its address on its first reconcile.
  EXPECT_EQ(ipam.allocate("ns/old2", "defaultPool", tcp({80}))->str(), "10.0.0.2");
}

TEST(Ipam, UnknownPool) {
  Ipam ipam({pool("defaultPool=10.0.0.1/24")}, false);
  auto r = ipam.allocate("ns/a", "gold", tcp({80}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace floatlb::kube
