#include "common/result.h"

#include <gtest/gtest.h>

using namespace floatlb;

namespace {
Result<int> half(int v) {
  if (v % 2) return makeError(ErrorCode::kInvalidArgument, "odd");
  return v / 2;
}
Result<int> quarter(int v) {
  FLB_ASSIGN_OR_RETURN(int h, half(v));
  return half(h);
}
Status check(int v) {
  FLB_TRY(quarter(v));
  return okStatus();
}
}  // namespace

TEST(Result, PropagatesErrorsWithContext) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().wrap("quarter(6)").message, "quarter(6): odd");
  EXPECT_TRUE(check(4).ok());
  EXPECT_FALSE(check(2).ok());
}
