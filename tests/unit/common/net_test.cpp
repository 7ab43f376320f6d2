#include "common/net.h"

#include <gtest/gtest.h>

using namespace floatlb;

TEST(Ip4, ParsesAndFormats) {
  auto ip = Ip4::parse("192.168.218.10");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->str(), "192.168.218.10");
  EXPECT_EQ(ip->hostOrder(), 0xC0A8DA0Au);
  EXPECT_EQ(Ip4::fromNetwork(ip->networkOrder()), *ip);
}

TEST(Ip4, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d",
                          "1..2.3", "1.2.3.4/24", "01234.1.1.1"}) {
    EXPECT_FALSE(Ip4::parse(bad).ok()) << bad;
  }
}

TEST(Cidr, ContainsAndOverlaps) {
  auto vpc = Cidr::parse("192.168.0.0/16");
  auto az_a = Cidr::parse("192.168.218.0/24");
  auto other = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(vpc.ok() && az_a.ok() && other.ok());
  EXPECT_TRUE(vpc->contains(*Ip4::parse("192.168.218.10")));
  EXPECT_TRUE(vpc->overlaps(*az_a));
  EXPECT_FALSE(vpc->overlaps(*other));
  EXPECT_EQ(az_a->at(1).str(), "192.168.218.1");
  EXPECT_EQ(az_a->size(), 256u);
}

TEST(Cidr, HostBitsAreAnErrorUnlessAllowed) {
  EXPECT_FALSE(Cidr::parse("192.168.1.5/24").ok());
  auto c = Cidr::parse("192.168.1.5/24", true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->str(), "192.168.1.0/24");
  EXPECT_EQ(Cidr::parse("1.2.3.4")->prefixLen(), 32);
  EXPECT_FALSE(Cidr::parse("1.2.3.4/33").ok());
}

TEST(Port, StrictParsing) {
  EXPECT_EQ(*parsePort("55002"), 55002);
  EXPECT_FALSE(parsePort("0").ok());
  EXPECT_TRUE(parsePort("0", true).ok());
  EXPECT_FALSE(parsePort("65536").ok());
  EXPECT_FALSE(parsePort("80a").ok());
  EXPECT_FALSE(parsePort("").ok());
}

TEST(Proto, CaseInsensitive) {
  EXPECT_EQ(*parseL4Proto("TCP"), L4Proto::kTcp);
  EXPECT_EQ(*parseL4Proto("udp"), L4Proto::kUdp);
  EXPECT_FALSE(parseL4Proto("tcpx").ok());
}
