#include "common/strings.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

namespace floatlb {
namespace {

TEST(SplitList, DropsEmptyItemsAndTrims) {
  EXPECT_EQ(splitList("a, b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(splitList("").empty());
  EXPECT_EQ(splitList("x=1;y=2", ';'), (std::vector<std::string>{"x=1", "y=2"}));
}

TEST(Bytes, BigEndianRoundTrip) {
  std::string out;
  putBe(out, 0x01020304, 4);
  putBe(out, 0xa1b2, 2);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x01);
  EXPECT_EQ(getBe(out, 0, 4), 0x01020304u);
  EXPECT_EQ(getBe(out, 4, 2), 0xa1b2u);
}

}  // namespace
}  // namespace floatlb
