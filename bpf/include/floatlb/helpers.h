/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One-line wrappers around the helpers a test may want to replace: a test .c can define
 * FLB_HELPERS_OVERRIDE, provide its own versions and #include the entry program.
 */
#ifndef FLOATLB_HELPERS_H
#define FLOATLB_HELPERS_H

#ifndef FLB_HELPERS_OVERRIDE
static __always_inline __u64 flb_now_ns(void)
{
	return bpf_ktime_get_ns();
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
