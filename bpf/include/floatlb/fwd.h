/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding after NAT. The decision of bpf_fib_lookup is cached per flow in the conntrack value
 * (struct flb_fib_cache, validity rule in fib_cache.h), so the lookup runs on a flow's first
 * packet and then only when the cache is stale (generation bumped, ingress interface changed,
 * older than FLB_FIB_REVALIDATE_NS). SUCCESS -> MAC rewrite + TTL-- + bpf_redirect (cached);
 * NO_NEIGH -> TTL-- + bpf_redirect_neigh (not cached: the neighbour is being resolved);
 * anything else -> the kernel stack (TC_ACT_OK, cached).
 */
#ifndef FLOATLB_FWD_H
#define FLOATLB_FWD_H

#define FLB_FWD_NEIGH 3 /* decision of flb_fib_decide() besides enum flb_fib_kind; never cached */

static __always_inline __u32 flb_fib_generation(void)
{
	__u32 zero = 0;
	__u32 *gen = bpf_map_lookup_elem(&flb_fib_gen, &zero);

	return gen ? *gen : 0;
}

/* TTL-- with an in-program header checksum update; with macs, also the new MACs. Direct writes. */
static __always_inline int flb_l2_rewrite(struct __sk_buff *skb, const struct flb_fib_cache *macs)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + FLB_ETH_HLEN;

	if ((void *)(iph + 1) > data_end)
		return -1;
	/* TTL is the high byte of a 16-bit header word: subtracting 1 from it = adding ~0x0100. */
	iph->check = flb_csum_update(iph->check, flb_csum_diff32(0, bpf_htons(0x0100), 0));
	iph->ttl--;
	if (macs) {
		__builtin_memcpy(eth->h_dest, macs->dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, macs->smac, ETH_ALEN);
	}
	return 0;
}

/* Runs bpf_fib_lookup for nat's tuple and records the decision in fc. */
static __always_inline int flb_fib_refresh(struct __sk_buff *skb, const struct flb_pkt *p,
					   const struct flb_nat *nat, struct flb_fib_cache *fc, __u32 gen,
					   __u64 now, struct bpf_redir_neigh *nh)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib.family = AF_INET;
	fib.l4_protocol = p->key.proto;
	fib.sport = nat->sport;
	fib.dport = nat->dport;
	fib.tot_len = 0; /* not skb->len: GSO packets would fail the MTU check */
	fib.ipv4_src = nat->saddr;
	fib.ipv4_dst = nat->daddr;
	fib.ifindex = skb->ingress_ifindex;

	rc = flb_fib_lookup(skb, &fib);
	fc->iif = skb->ingress_ifindex;
	fc->gen = gen;
	fc->checked_ns = now;
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		__builtin_memcpy(fc->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(fc->smac, fib.smac, ETH_ALEN);
		fc->oif = fib.ifindex;
		fc->kind = FLB_FIB_REDIRECT;
		return FLB_FIB_REDIRECT;
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		fc->kind = FLB_FIB_NONE;
		fc->oif = fib.ifindex;
		nh->nh_family = AF_INET;
		nh->ipv4_nh = fib.ipv4_dst; /* the lookup stored the next hop here */
		return FLB_FWD_NEIGH;
	}
	fc->kind = FLB_FIB_KERNEL; /* no route, local, forwarding off, ...: same answer next time */
	return FLB_FIB_KERNEL;
}

/*
 * The forwarding decision for this packet: the cached one while fresh, else a new lookup (which
 * updates fc). Does not touch the packet, so it may run before or after NAT.
 */
static __always_inline int flb_fib_decide(struct __sk_buff *skb, const struct flb_pkt *p,
					  const struct flb_nat *nat, struct flb_fib_cache *fc, __u64 now,
					  struct bpf_redir_neigh *nh)
{
	__u32 gen;

	if (p->ttl <= 1)
		return FLB_FIB_KERNEL; /* the stack sends the ICMP time-exceeded; not cached */
	gen = flb_fib_generation();
	if (flb_fib_cache_fresh(fc, skb->ingress_ifindex, gen, now))
		return fc->kind;
	return flb_fib_refresh(skb, p, nat, fc, gen, now, nh);
}

/* Carries out a decision of flb_fib_decide() on the (already translated) packet. */
static __always_inline int flb_fib_act(struct __sk_buff *skb, int decision, const struct flb_fib_cache *fc,
				       struct bpf_redir_neigh *nh)
{
	if (decision == FLB_FIB_REDIRECT) {
		if (flb_l2_rewrite(skb, fc))
			return TC_ACT_SHOT;
		flb_stat_inc(FLB_STAT_FIB_REDIRECT);
		return flb_redirect(fc->oif);
	}
	if (decision == FLB_FWD_NEIGH) {
		if (flb_l2_rewrite(skb, 0)) /* the neighbour code writes the MACs */
			return TC_ACT_SHOT;
		flb_stat_inc(FLB_STAT_FIB_NEIGH);
		return flb_redirect_neigh(fc->oif, nh);
	}
	flb_stat_inc(FLB_STAT_FIB_KERNEL);
	return TC_ACT_OK;
}

#endif /* FLOATLB_FWD_H */
