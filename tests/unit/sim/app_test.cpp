// vpcsim's argv (CLI11): historical flag spellings, `--flag=value`, and clear errors for bad input.
#include "sim/app.h"

#include <gtest/gtest.h>

namespace floatlb::sim {
namespace {

TEST(VpcsimArgs, UpWithEveryFlagInBothSpellings) {
  auto o =
      parseAppArgs({"up", "--topology", "topologies/seed.json", "--prefix=flb42-", "--port", "8080",
                    "--state-dir=/tmp/x", "--latency=zero", "--detach-ms", "500", "--no-netns", "--daemon"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->command, "up");
  EXPECT_EQ(o->topology, "topologies/seed.json");
  EXPECT_EQ(o->prefix, "flb42-");
  EXPECT_EQ(o->port, 8080);
  EXPECT_EQ(stateDir(*o), "/tmp/x");
  EXPECT_EQ(o->latency, "zero");
  ASSERT_TRUE(o->detach_ms.has_value());
  EXPECT_EQ(*o->detach_ms, 500);
  EXPECT_TRUE(o->no_netns);
  EXPECT_TRUE(o->daemon);
}

TEST(VpcsimArgs, DefaultsAndDown) {
  auto up = parseAppArgs({"up", "--topology", "t.json", "--prefix", "p1-"});
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->latency, "default");
  EXPECT_FALSE(up->detach_ms.has_value());
  EXPECT_FALSE(up->daemon);
  EXPECT_EQ(stateDir(*up), "/tmp/vpcsim-p1-");
  auto down = parseAppArgs({"down", "--prefix", "p1-", "--state-dir", "/tmp/y"});
  ASSERT_TRUE(down.ok()) << down.error().message;
  EXPECT_EQ(down->command, "down");
  EXPECT_EQ(stateDir(*down), "/tmp/y");
}

TEST(VpcsimArgs, BadInputIsAnErrorNamingTheProblem) {
  auto unknown = parseAppArgs({"up", "--topology", "t.json", "--prefix", "p-", "--bogus"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("--bogus"), std::string::npos) << unknown.error().message;
  auto latency = parseAppArgs({"up", "--topology", "t.json", "--prefix", "p-", "--latency=slow"});
  ASSERT_FALSE(latency.ok());
  EXPECT_NE(latency.error().message.find("slow"), std::string::npos) << latency.error().message;
  EXPECT_FALSE(parseAppArgs({"up", "--topology", "t.json"}).ok());  // --prefix is required
  EXPECT_FALSE(parseAppArgs({"up", "--topology", "t.json", "--prefix", "p-", "--port", "x"}).ok());
  EXPECT_FALSE(parseAppArgs({"up", "--topology", "t.json", "--prefix", "p-", "--detach-ms", "-5"}).ok());
  EXPECT_FALSE(parseAppArgs({"fly"}).ok());
  EXPECT_FALSE(parseAppArgs({}).ok());
  auto help = parseAppArgs({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  EXPECT_NE(help->usage.find("up"), std::string::npos);
}

}  // namespace
}  // namespace floatlb::sim
