// Retry-After: the header parser, the client's gate and the informer's wait (FakeClock).
#include "k8s/throttle.h"

#include <gtest/gtest.h>

#include "k8s/informer.h"

namespace floatlb::k8s {
namespace {

using std::chrono::seconds;

TEST(RetryAfter, HeaderForms) {
  EXPECT_EQ(retryAfterHeader("Retry-After: 5\r\n"), seconds(5));
  EXPECT_EQ(retryAfterHeader("retry-after:12"), seconds(12));
  EXPECT_EQ(retryAfterHeader("RETRY-AFTER: 99999\r\n"), seconds(600));  // capped
  EXPECT_FALSE(retryAfterHeader("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"));
  EXPECT_FALSE(retryAfterHeader("Content-Length: 5\r\n"));
  EXPECT_FALSE(retryAfterHeader("Retry-After: \r\n"));
}

TEST(RetryAfter, GateClosesFor429AndOpensWhenTheTimeIsUp) {
  FakeClock clock;
  RetryAfterGate g;
  g.observe(200, seconds(9), clock.now());
  g.observe(503, Duration::zero(), clock.now());  // 503 without Retry-After: the caller's backoff
  EXPECT_EQ(g.remaining(clock.now()), Duration::zero());
  g.observe(429, seconds(3), clock.now());
  EXPECT_EQ(g.remaining(clock.now()), seconds(3));
  clock.advance(seconds(2));
  EXPECT_EQ(g.remaining(clock.now()), seconds(1));
  clock.advance(seconds(1));
  EXPECT_EQ(g.remaining(clock.now()), Duration::zero());
  g.observe(429, Duration::zero(), clock.now());  // no header: 1 s
  EXPECT_EQ(g.remaining(clock.now()), seconds(1));
  EXPECT_EQ(g.throttled(), 2u);
}

TEST(RetryAfter, InformerWaitsAtLeastRetryAfterAfterA429) {
  FakeClock clock;
  Reflector r(clock);
  std::vector<Delta> out;
  ASSERT_EQ(r.next().kind, InformerRequest::kList);
  r.onList(429, Json(), out, seconds(20));
  InformerRequest w = r.next();
  ASSERT_EQ(w.kind, InformerRequest::kWait);
  EXPECT_GE(w.until - clock.now(), seconds(20));
  clock.advance(seconds(20));
  EXPECT_EQ(r.next().kind, InformerRequest::kList);
}

}  // namespace
}  // namespace floatlb::k8s
