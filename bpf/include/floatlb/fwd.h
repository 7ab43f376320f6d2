/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding after NAT: bpf_fib_lookup, then MAC rewrite + TTL-- + redirect; NO_NEIGH ->
 * bpf_redirect_neigh; anything else goes to the kernel stack (TC_ACT_OK).
 */
#ifndef FLOATLB_FWD_H
#define FLOATLB_FWD_H

/* TTL-- with an in-program header checksum update, and the new MACs; direct writes. */
static __always_inline int flb_l2_rewrite(struct __sk_buff *skb, const struct bpf_fib_lookup *fib)
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
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	return 0;
}

static __always_inline int flb_forward(struct __sk_buff *skb, const struct flb_pkt *p,
				       const struct flb_nat *nat)
{
	struct bpf_fib_lookup fib = {};
	struct bpf_redir_neigh nh = {};
	long rc;

	if (p->ttl <= 1)
		goto kernel; /* the stack sends the ICMP time-exceeded */
	fib.family = AF_INET;
	fib.l4_protocol = p->key.proto;
	fib.sport = nat->sport;
	fib.dport = nat->dport;
	fib.tot_len = 0; /* not skb->len: GSO packets would fail the MTU check */
	fib.ipv4_src = nat->saddr;
	fib.ipv4_dst = nat->daddr;
	fib.ifindex = skb->ingress_ifindex;

	rc = flb_fib_lookup(skb, &fib);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (flb_l2_rewrite(skb, &fib))
			return TC_ACT_SHOT;
		flb_stat_inc(FLB_STAT_FIB_REDIRECT);
		return flb_redirect(fib.ifindex);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		if (flb_l2_rewrite(skb, &fib)) /* MACs are rewritten again by the neighbour code */
			return TC_ACT_SHOT;
		nh.nh_family = AF_INET;
		nh.ipv4_nh = fib.ipv4_dst; /* the lookup stored the next hop here */
		flb_stat_inc(FLB_STAT_FIB_NEIGH);
		return flb_redirect_neigh(fib.ifindex, &nh);
	}
kernel:
	flb_stat_inc(FLB_STAT_FIB_KERNEL);
	return TC_ACT_OK;
}

#endif /* FLOATLB_FWD_H */
