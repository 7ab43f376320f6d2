/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Ethernet / IPv4 / TCP|UDP parsing into struct flb_pkt (direct packet access, honours ihl). */
#ifndef FLOATLB_PARSE_H
#define FLOATLB_PARSE_H

struct flb_pkt {
	struct flb_ct_key key; /* the packet's own 5-tuple */
	__u32 l3_off;
	__u32 l4_off;
	__u8 tcp_flags;
	__u8 ttl;
	__u8 frag;             /* FLB_FRAG_* */
	__u8 pad;
};

enum flb_parse_rc {
	FLB_PARSE_OK = 0,     /* IPv4 TCP/UDP with ports, not a fragment */
	FLB_PARSE_OTHER = 1,  /* not ours: pass */
	FLB_PARSE_FRAG = 2,   /* IPv4 TCP/UDP fragment; ports valid only if FLB_FRAG_FIRST */
};

#define FLB_FRAG_FIRST 1
#define FLB_FRAG_LATER 2

static __always_inline int flb_parse(struct __sk_buff *skb, struct flb_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	__u32 ihl_len;
	__u16 frag;
	__u8 *l4;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return FLB_PARSE_OTHER;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->version != 4)
		return FLB_PARSE_OTHER;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return FLB_PARSE_OTHER;
	ihl_len = (__u32)iph->ihl * 4;
	if (ihl_len < sizeof(*iph))
		return FLB_PARSE_OTHER;

	p->l3_off = FLB_ETH_HLEN;
	p->l4_off = FLB_ETH_HLEN + ihl_len;
	p->key.saddr = iph->saddr;
	p->key.daddr = iph->daddr;
	p->key.proto = iph->protocol;
	p->ttl = iph->ttl;
	p->tcp_flags = 0;
	p->frag = 0;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & IP_OFFSET) {
		p->frag = FLB_FRAG_LATER;
		return FLB_PARSE_FRAG;
	}
	if (frag & IP_MF)
		p->frag = FLB_FRAG_FIRST;

	l4 = (__u8 *)iph + ihl_len;
	if (iph->protocol == IPPROTO_TCP) {
		if ((void *)(l4 + sizeof(struct tcphdr)) > data_end)
			return FLB_PARSE_OTHER;
		p->tcp_flags = l4[13];
	} else if ((void *)(l4 + sizeof(struct udphdr)) > data_end) {
		return FLB_PARSE_OTHER;
	}
	p->key.sport = *(__be16 *)(l4 + FLB_L4_SPORT_OFF);
	p->key.dport = *(__be16 *)(l4 + FLB_L4_DPORT_OFF);
	return p->frag ? FLB_PARSE_FRAG : FLB_PARSE_OK;
}

#endif /* FLOATLB_PARSE_H */
