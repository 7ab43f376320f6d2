/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One-line wrappers around the helpers a test may want to replace: a test .c can define
 * FLB_HELPERS_OVERRIDE, provide its own versions and #include the entry program.
 */
#ifndef FLOATLB_HELPERS_H
#define FLOATLB_HELPERS_H

#ifndef FLB_HELPERS_OVERRIDE
/*
 * Clock of the datapath: CLOCK_MONOTONIC in ns at tick resolution (what bpf_ktime_get_coarse_ns
 * returns), but cheap enough for every packet. bpf_ktime_get_coarse_ns() is a real helper call
 * (~15-20 ns here); bpf_jiffies64() is inlined by the verifier into one load. jiffies advance
 * with CLOCK_MONOTONIC in TICK_NSEC steps, so coarse_ns - jiffies * TICK_NSEC is a constant
 * (within one tick). flb_now_ns_sync() measures it (new flows, and the first packet after load);
 * flb_now_ns() adds it to jiffies. Without CONFIG_HZ (no kernel config for libbpf) every call
 * falls back to the helper.
 */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* .bss, per loaded program (recomputed after a reload): coarse_ns - jiffies * tick_ns (mod 2^64). */
__u64 flb_clock_offset_ns = 0;
__u32 flb_clock_valid = 0;

static __always_inline __u64 flb_tick_ns(void)
{
	/* the kernel's TICK_NSEC */
	return CONFIG_HZ ? (1000000000ULL + CONFIG_HZ / 2) / CONFIG_HZ : 0;
}

/* Precise (helper) read; refreshes the jiffies offset. For the slow path. */
static __always_inline __u64 flb_now_ns_sync(void)
{
	__u64 tick = flb_tick_ns();
	__u64 j = bpf_jiffies64();
	__u64 now = bpf_ktime_get_coarse_ns();

	if (tick) {
		flb_clock_offset_ns = now - j * tick;
		flb_clock_valid = 1;
	}
	return now;
}

/* Fast read for the per-packet path: one inlined load + the offset. */
static __always_inline __u64 flb_now_ns(void)
{
	__u64 tick = flb_tick_ns();

	if (!tick || !flb_clock_valid)
		return flb_now_ns_sync();
	return bpf_jiffies64() * tick + flb_clock_offset_ns;
}

static __always_inline long flb_fib_lookup(struct __sk_buff *skb, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

static __always_inline long flb_redirect(__u32 ifindex)
{
	return bpf_redirect(ifindex, 0);
}

static __always_inline long flb_redirect_neigh(__u32 ifindex, struct bpf_redir_neigh *nh)
{
	return bpf_redirect_neigh(ifindex, nh, sizeof(*nh), 0);
}
#endif

#endif /* FLOATLB_HELPERS_H */
