// Validity rule of the per-flow forwarding cache (bpf/include/floatlb/fib_cache.h).
#include "floatlb/fib_cache.h"

#include <gtest/gtest.h>

namespace {

constexpr __u64 kT0 = 5'000'000'000ull;

flb_fib_cache cached(__u8 kind = FLB_FIB_REDIRECT) {
  flb_fib_cache fc{};
  fc.kind = kind;
  fc.oif = 3;
  fc.iif = 2;
  fc.gen = 7;
  fc.checked_ns = kT0;
  return fc;
}

TEST(FibCache, FreshWhileSameInterfaceGenerationAndYoung) {
  const flb_fib_cache fc = cached();
  EXPECT_TRUE(flb_fib_cache_fresh(&fc, 2, 7, kT0));
  EXPECT_TRUE(flb_fib_cache_fresh(&fc, 2, 7, kT0 + FLB_FIB_REVALIDATE_NS - 1));
  const flb_fib_cache kernel = cached(FLB_FIB_KERNEL);  // "hand to the stack" is cached too
  EXPECT_TRUE(flb_fib_cache_fresh(&kernel, 2, 7, kT0 + 1));
}

TEST(FibCache, EmptyNeverFresh) {
  const flb_fib_cache fc = cached(FLB_FIB_NONE);
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 2, 7, kT0));
  const flb_fib_cache zero{};  // a new or HA-synced entry
  EXPECT_FALSE(flb_fib_cache_fresh(&zero, 0, 0, 0));
}

TEST(FibCache, StaleAfterRevalidationPeriod) {
  const flb_fib_cache fc = cached();
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 2, 7, kT0 + FLB_FIB_REVALIDATE_NS));
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 2, 7, kT0 + 60'000'000'000ull));
}

TEST(FibCache, StaleWhenClockIsBehindTheLookup) {
  // Another CPU's clock read may trail by a tick: unsigned wrap-around makes it stale, not fresh.
  const flb_fib_cache fc = cached();
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 2, 7, kT0 - 4'000'000));
}

TEST(FibCache, StaleOnGenerationBumpOrOtherIngressInterface) {
  const flb_fib_cache fc = cached();
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 2, 8, kT0 + 1));
  EXPECT_FALSE(flb_fib_cache_fresh(&fc, 5, 7, kT0 + 1));
}

}  // namespace
