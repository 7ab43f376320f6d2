/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding after NAT: bpf_fib_lookup, then MAC rewrite + TTL-- + redirect; NO_NEIGH ->
 * bpf_redirect_neigh; anything else goes to the kernel stack (TC_ACT_OK).
 */
#ifndef FLOATLB_FWD_H
#define FLOATLB_FWD_H

static __always_inline int flb_ttl_dec(struct __sk_buff *skb, const struct flb_pkt *p)
{
	/* TTL and protocol form one 16-bit word of the header checksum. */
	__be16 old_word = bpf_htons(((__u16)p->ttl << 8) | p->key.proto);
	__be16 new_word = bpf_htons(((__u16)(p->ttl - 1) << 8) | p->key.proto);
	__u8 ttl = p->ttl - 1;

	if (bpf_l3_csum_replace(skb, p->l3_off + FLB_IP_CSUM_OFF, old_word, new_word, sizeof(new_word)))
		return -1;
	return bpf_skb_store_bytes(skb, p->l3_off + FLB_IP_TTL_OFF, &ttl, sizeof(ttl), 0) ? -1 : 0;
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
		if (flb_ttl_dec(skb, p) ||
		    bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) ||
		    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0))
			return TC_ACT_SHOT;
		flb_stat_inc(FLB_STAT_FIB_REDIRECT);
		return flb_redirect(fib.ifindex);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		if (flb_ttl_dec(skb, p))
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
