/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header rewrite with incremental checksum updates. Addresses are part of the L4 pseudo header
 * (BPF_F_PSEUDO_HDR); a zero UDP checksum ("none") stays zero (BPF_F_MARK_MANGLED_0).
 */
#ifndef FLOATLB_NAT_H
#define FLOATLB_NAT_H

static __always_inline __u32 flb_l4_csum_off(const struct flb_pkt *p)
{
	return p->l4_off + (p->key.proto == IPPROTO_TCP ? FLB_TCP_CSUM_OFF : FLB_UDP_CSUM_OFF);
}

static __always_inline __u64 flb_l4_csum_flags(const struct flb_pkt *p)
{
	return p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

static __always_inline int flb_rewrite_addr(struct __sk_buff *skb, const struct flb_pkt *p, __u32 off,
					    __be32 from, __be32 to)
{
	if (from == to)
		return 0;
	if (bpf_l4_csum_replace(skb, flb_l4_csum_off(p), from, to,
				BPF_F_PSEUDO_HDR | sizeof(to) | flb_l4_csum_flags(p)))
		return -1;
	if (bpf_l3_csum_replace(skb, p->l3_off + FLB_IP_CSUM_OFF, from, to, sizeof(to)))
		return -1;
	return bpf_skb_store_bytes(skb, p->l3_off + off, &to, sizeof(to), 0) ? -1 : 0;
}

static __always_inline int flb_rewrite_port(struct __sk_buff *skb, const struct flb_pkt *p, __u32 off,
					    __be16 from, __be16 to)
{
	if (from == to)
		return 0;
	if (bpf_l4_csum_replace(skb, flb_l4_csum_off(p), from, to, sizeof(to) | flb_l4_csum_flags(p)))
		return -1;
	return bpf_skb_store_bytes(skb, p->l4_off + off, &to, sizeof(to), 0) ? -1 : 0;
}

/* Rewrites the packet's tuple to nat; only changed fields are touched. 0 on success. */
static __always_inline int flb_nat_apply(struct __sk_buff *skb, const struct flb_pkt *p,
					 const struct flb_nat *nat)
{
	if (flb_rewrite_addr(skb, p, FLB_IP_SADDR_OFF, p->key.saddr, nat->saddr) ||
	    flb_rewrite_addr(skb, p, FLB_IP_DADDR_OFF, p->key.daddr, nat->daddr) ||
	    flb_rewrite_port(skb, p, FLB_L4_SPORT_OFF, p->key.sport, nat->sport) ||
	    flb_rewrite_port(skb, p, FLB_L4_DPORT_OFF, p->key.dport, nat->dport))
		return -1;
	return 0;
}

#endif /* FLOATLB_NAT_H */
