/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * floatlb tc ingress datapath: conntrack hit -> translate and forward; miss -> service lookup ->
 * endpoint selection -> forward + reverse conntrack entries -> translate and forward.
 * See docs/dataplane.md.
 */
#include "floatlb/kernel.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "floatlb/abi.h"
#include "floatlb/consts.h"
#include "floatlb/ct_state.h"
#include "floatlb/fib_cache.h"
#include "floatlb/select.h"
#include "floatlb/maps.h"
#include "floatlb/helpers.h"
#include "floatlb/parse.h"
#include "floatlb/nat.h"
#include "floatlb/fwd.h"
#include "floatlb/conntrack.h"
#include "floatlb/lb.h"

static __always_inline struct flb_svc *flb_service_of(const struct flb_pkt *p, __u32 mark)
{
	struct flb_svc_key sk = {
		.vip = p->key.daddr, .port = p->key.dport, .proto = p->key.proto, .block = mark};

	return bpf_map_lookup_elem(&flb_services, &sk);
}

SEC("tc")
int flb_ingress(struct __sk_buff *skb)
{
	struct flb_pkt p = {};
	struct flb_ct_value *ct;
	struct flb_svc *svc;
	int rc;

	flb_stat_inc(FLB_STAT_RX);
	/*
	 * Only frames addressed to this host are ours. A switch floods unknown unicast to every
	 * port; forwarding a frame meant for another MAC (e.g. the HA peer's) would duplicate it.
	 */
	if (skb->pkt_type != PACKET_HOST)
		goto pass;
	rc = flb_parse(skb, &p);
	if (rc == FLB_PARSE_OTHER)
		goto pass;
	if (rc == FLB_PARSE_FRAG) {
		/* Later fragments carry no ports: we cannot tell whether they belong to a service. */
		if (p.frag == FLB_FRAG_LATER || flb_service_of(&p, skb->mark)) {
			flb_stat_inc(FLB_STAT_FRAGMENT);
			return TC_ACT_OK;
		}
		goto pass;
	}

	ct = bpf_map_lookup_elem(&flb_ct, &p.key);
	if (ct)
		return flb_ct_hit(skb, &p, ct, flb_now_ns());
	svc = flb_service_of(&p, skb->mark);
	if (svc)
		return flb_new_flow(skb, &p, svc, flb_now_ns_sync());
pass:
	flb_stat_inc(FLB_STAT_PASS);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
