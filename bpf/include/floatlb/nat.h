/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header rewrite. Cost matters here (every packet): the L4 checksum is updated with at most two
 * helper calls, each taking a precomputed ones'-complement difference (one for the addresses,
 * which are part of the pseudo header: BPF_F_PSEUDO_HDR, so CHECKSUM_PARTIAL skbs stay right; one
 * for the ports). A zero UDP checksum ("none") stays zero (BPF_F_MARK_MANGLED_0). The IPv4
 * header checksum is updated in-program (RFC 1624) and the fields are written directly.
 */
#ifndef FLOATLB_NAT_H
#define FLOATLB_NAT_H

/* 32-bit ones'-complement add (end-around carry), like the kernel's csum_add(). */
static __always_inline __u32 flb_csum_add(__u32 a, __u32 b)
{
	__u32 r = a + b;

	return r + (r < a);
}

/* Difference to add to a checksum when 32-bit word `from` becomes `to`. */
static __always_inline __u32 flb_csum_diff32(__u32 diff, __u32 from, __u32 to)
{
	return flb_csum_add(flb_csum_add(diff, ~from), to);
}

static __always_inline __u16 flb_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + m' - m), with the difference already summed in `diff`. */
static __always_inline __u16 flb_csum_update(__u16 check, __u32 diff)
{
	return ~flb_csum_fold(flb_csum_add((__u16)~check, diff));
}

static __always_inline __u32 flb_l4_csum_off(const struct flb_pkt *p)
{
	return p->l4_off + (p->key.proto == IPPROTO_TCP ? FLB_TCP_CSUM_OFF : FLB_UDP_CSUM_OFF);
}

static __always_inline __u64 flb_l4_csum_flags(const struct flb_pkt *p)
{
	return p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define FLB_CHECKSUM_PARTIAL 3
#define FLB_CHECKSUM_COMPLETE 2

/* skb->ip_summed, read through the kernel's own sk_buff (kfunc + CO-RE bitfield read). */
static __always_inline int flb_ip_summed(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return BPF_CORE_READ_BITFIELD(kskb, ip_summed);
}

/*
 * L4 checksum update in-program, the same arithmetic as the kernel's
 * inet_proto_csum_replace_by_diff(): with CHECKSUM_PARTIAL the field holds the pseudo-header
 * sum (only address changes apply, non-inverted); otherwise it is a full checksum. A zero UDP
 * checksum means "none" and stays zero; a computed zero is sent as 0xffff.
 */
static __always_inline void flb_l4_csum_fix(__u16 *check, int partial, int udp, __u32 addr_diff,
					    __u32 port_diff)
{
	if (udp && *check == 0)
		return;
	if (partial)
		*check = flb_csum_fold(flb_csum_add(*check, addr_diff));
	else
		*check = flb_csum_update(*check, flb_csum_add(addr_diff, port_diff));
	if (udp && *check == 0)
		*check = 0xffff;
}

/* Rewrites the packet's tuple to nat; only changed fields are touched. 0 on success. */
static __always_inline int flb_nat_apply(struct __sk_buff *skb, const struct flb_pkt *p,
					 const struct flb_nat *nat)
{
	__u32 addr_diff = 0, port_diff = 0;
	int summed = flb_ip_summed(skb);
	void *data, *data_end;
	struct iphdr *iph;
	__be16 *l4;

	if (p->key.saddr != nat->saddr)
		addr_diff = flb_csum_diff32(addr_diff, p->key.saddr, nat->saddr);
	if (p->key.daddr != nat->daddr)
		addr_diff = flb_csum_diff32(addr_diff, p->key.daddr, nat->daddr);
	if (p->key.sport != nat->sport)
		port_diff = flb_csum_diff32(port_diff, p->key.sport, nat->sport);
	if (p->key.dport != nat->dport)
		port_diff = flb_csum_diff32(port_diff, p->key.dport, nat->dport);

	if (summed == FLB_CHECKSUM_COMPLETE) {
		/* skb->csum must follow too: let the helpers do it. */
		if (addr_diff && bpf_l4_csum_replace(skb, flb_l4_csum_off(p), 0, addr_diff,
						     BPF_F_PSEUDO_HDR | flb_l4_csum_flags(p)))
			return -1;
		if (port_diff &&
		    bpf_l4_csum_replace(skb, flb_l4_csum_off(p), 0, port_diff, flb_l4_csum_flags(p)))
			return -1;
	}

	/* l4_off is at most 14 + 60; re-derive pointers (helpers invalidate them). */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	iph = data + FLB_ETH_HLEN;
	l4 = data + (p->l4_off & 0x7f);
	if ((void *)(iph + 1) > data_end || (void *)(l4 + 4) > data_end) /* IPv4 + 8 bytes of L4 */
		return -1;
	if (summed != FLB_CHECKSUM_COMPLETE) {
		if (p->key.proto == IPPROTO_UDP) {
			flb_l4_csum_fix(l4 + FLB_UDP_CSUM_OFF / 2, summed == FLB_CHECKSUM_PARTIAL, 1, addr_diff,
					port_diff);
		} else {
			if ((void *)(l4 + FLB_TCP_CSUM_OFF / 2 + 1) > data_end)
				return -1;
			flb_l4_csum_fix(l4 + FLB_TCP_CSUM_OFF / 2, summed == FLB_CHECKSUM_PARTIAL, 0, addr_diff,
					port_diff);
		}
	}
	if (addr_diff) {
		iph->check = flb_csum_update(iph->check, addr_diff);
		iph->saddr = nat->saddr;
		iph->daddr = nat->daddr;
	}
	l4[0] = nat->sport;
	l4[1] = nat->dport;
	return 0;
}

#endif /* FLOATLB_NAT_H */
