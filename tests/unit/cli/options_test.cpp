#include "cli/options.h"

#include <gtest/gtest.h>

namespace floatlb::cli {
namespace {

constexpr OptSpec kSpecs[] = {
    {"port", 'p', OptKind::kValue, ""},
    {"output", 'o', OptKind::kValue, ""},
    {"tcp", 0, OptKind::kList, ""},
    {"monitor", 0, OptKind::kFlag, ""},
};

TEST(OptionsTest, MixesPositionalsAndAllFlagSpellings) {
  auto r = parseArgs(kSpecs, {"get", "-o", "json", "lb", "--port=1234", "--tcp=80:8080,443:8443", "--tcp",
                              "53:53", "--monitor", "-pj"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->positional, (std::vector<std::string>{"get", "lb"}));
  EXPECT_EQ(r->get("output"), "json");
  EXPECT_EQ(r->get("port"), "j");  // the last value wins
  EXPECT_EQ(r->list("tcp"), (std::vector<std::string>{"80:8080", "443:8443", "53:53"}));
  EXPECT_TRUE(r->flag("monitor"));
  EXPECT_FALSE(r->has("nothing"));
}

TEST(OptionsTest, BooleanFlagAcceptsExplicitValue) {
  auto r = parseArgs(kSpecs, {"--monitor=false"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has("monitor"));
  EXPECT_FALSE(r->flag("monitor"));
  EXPECT_FALSE(parseArgs(kSpecs, {"--monitor=maybe"}).ok());
}

TEST(OptionsTest, DoubleDashEndsOptions) {
  auto r = parseArgs(kSpecs, {"a", "--", "--port", "-o"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->positional, (std::vector<std::string>{"a", "--port", "-o"}));
}

TEST(OptionsTest, Errors) {
  auto unknown = parseArgs(kSpecs, {"--bogus=1"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown flag: --bogus");
  auto missing = parseArgs(kSpecs, {"--port"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "flag needs an argument: --port");
  EXPECT_FALSE(parseArgs(kSpecs, {"-x"}).ok());
}

}  // namespace
}  // namespace floatlb::cli
