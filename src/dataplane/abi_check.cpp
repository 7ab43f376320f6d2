// Compile-time checks of the BPF ABI (bpf/include/floatlb/abi.h) as seen by the C++ compiler. If
// one fires, the BPF and C++ sides disagree about a map layout: fix abi.h, bump FLB_ABI_VERSION.
#include <cstddef>
#include <type_traits>

#include "floatlb/abi.h"

namespace {

template <class T>
constexpr bool kPlain = std::is_trivially_copyable_v<T>&& std::is_standard_layout_v<T>;

static_assert(FLB_ABI_VERSION == 2);

static_assert(kPlain<flb_svc_key> && sizeof(flb_svc_key) == 12);
static_assert(offsetof(flb_svc_key, vip) == 0 && offsetof(flb_svc_key, port) == 4);
static_assert(offsetof(flb_svc_key, proto) == 6 && offsetof(flb_svc_key, block) == 8);

static_assert(kPlain<flb_endpoint> && sizeof(flb_endpoint) == 12);
static_assert(offsetof(flb_endpoint, snat_ip) == 4 && offsetof(flb_endpoint, port) == 8);
static_assert(offsetof(flb_endpoint, weight) == 10 && offsetof(flb_endpoint, flags) == 11);

static_assert(kPlain<flb_svc> && sizeof(flb_svc) == 16 + FLB_MAX_SLOTS + 12 * FLB_MAX_ENDPOINTS);
static_assert(offsetof(flb_svc, mode) == 4 && offsetof(flb_svc, n_slots) == 7);
static_assert(offsetof(flb_svc, ct_timeout_s) == 8 && offsetof(flb_svc, persist_timeout_s) == 12);
static_assert(offsetof(flb_svc, slots) == 16 && offsetof(flb_svc, eps) == 16 + FLB_MAX_SLOTS);

static_assert(kPlain<flb_ct_key> && sizeof(flb_ct_key) == 16);
static_assert(offsetof(flb_ct_key, sport) == 8 && offsetof(flb_ct_key, proto) == 12);

static_assert(kPlain<flb_nat> && sizeof(flb_nat) == 12);

static_assert(kPlain<flb_fib_cache> && sizeof(flb_fib_cache) == 40);
static_assert(offsetof(flb_fib_cache, smac) == 6 && offsetof(flb_fib_cache, oif) == 12);
static_assert(offsetof(flb_fib_cache, iif) == 16 && offsetof(flb_fib_cache, gen) == 20);
static_assert(offsetof(flb_fib_cache, kind) == 24 && offsetof(flb_fib_cache, checked_ns) == 32);

static_assert(kPlain<flb_ct_value> && sizeof(flb_ct_value) == 128);
static_assert(offsetof(flb_ct_value, dir) == 12 && offsetof(flb_ct_value, flags) == 15);
static_assert(offsetof(flb_ct_value, rule_id) == 16 && offsetof(flb_ct_value, timeout_s) == 20);
static_assert(offsetof(flb_ct_value, svc) == 28 && offsetof(flb_ct_value, peer) == 40);
static_assert(offsetof(flb_ct_value, created_ns) == 56 && offsetof(flb_ct_value, last_seen_ns) == 64);
static_assert(offsetof(flb_ct_value, packets) == 72 && offsetof(flb_ct_value, bytes) == 80);
static_assert(offsetof(flb_ct_value, fib) == 88);

static_assert(kPlain<flb_persist_key> && sizeof(flb_persist_key) == 8);
static_assert(kPlain<flb_persist_value> && sizeof(flb_persist_value) == 16);
static_assert(offsetof(flb_persist_value, last_ns) == 8);

static_assert(kPlain<flb_lc_counts> && sizeof(flb_lc_counts) == 4 * FLB_MAX_ENDPOINTS);
static_assert(kPlain<flb_counter> && sizeof(flb_counter) == 16);

static_assert(kPlain<flb_ct_event> && sizeof(flb_ct_event) == 8 + 16 + 128);
static_assert(offsetof(flb_ct_event, key) == 8 && offsetof(flb_ct_event, value) == 24);

// Selection tables index with masks; they must stay powers of two.
static_assert((FLB_MAX_SLOTS & (FLB_MAX_SLOTS - 1)) == 0);
static_assert((FLB_MAX_ENDPOINTS & (FLB_MAX_ENDPOINTS - 1)) == 0);
static_assert(FLB_MAX_ENDPOINTS <= 256 && FLB_MAX_SLOTS <= 256);  // __u8 indices

}  // namespace
