/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * New flows: endpoint selection over the service's slots (rr, hash, prio, persist, lc) and the
 * creation of the forward + reverse conntrack entries (with SNAT source-port fallback).
 */
#ifndef FLOATLB_LB_H
#define FLOATLB_LB_H

static __always_inline int flb_select_persist(const struct flb_svc *svc, const struct flb_pkt *p,
					      __u64 now)
{
	struct flb_persist_key pk = {.rule_id = svc->rule_id, .saddr = p->key.saddr};
	struct flb_persist_value nv = {};
	struct flb_persist_value *pv;
	int ep;

	pv = bpf_map_lookup_elem(&flb_persist, &pk);
	if (pv && flb_persist_fresh(pv->last_ns, now, svc->persist_timeout_s) &&
	    flb_ep_selectable(svc, pv->ep_idx)) {
		pv->last_ns = now;
		return pv->ep_idx & (FLB_MAX_ENDPOINTS - 1);
	}
	ep = flb_slot_ep(svc, flb_slot_of(flb_addr_hash(p->key.saddr), svc->n_slots));
	if (ep < 0)
		return -1;
	nv.ep_idx = ep;
	nv.last_ns = now;
	bpf_map_update_elem(&flb_persist, &pk, &nv, BPF_ANY);
	return ep;
}

/* Returns the selected endpoint index, or -1. svc->n_slots > 0. */
static __always_inline int flb_select(const struct flb_svc *svc, const struct flb_pkt *p, __u64 now)
{
	__u32 rule = svc->rule_id;
	__u32 *cursor;
	struct flb_lc_scan scan = {.best_count = 0xffffffffu, .best = -1};

	switch (svc->sel) {
	case FLB_SEL_RR:
	case FLB_SEL_PRIO:
		cursor = bpf_map_lookup_elem(&flb_rr, &rule);
		if (!cursor)
			return -1;
		return flb_slot_ep(svc, flb_slot_of(__sync_fetch_and_add(cursor, 1), svc->n_slots));
	case FLB_SEL_PERSIST:
		return flb_select_persist(svc, p, now);
	case FLB_SEL_LC:
		scan.svc = svc;
		scan.lc = bpf_map_lookup_elem(&flb_lc, &rule);
		if (!scan.lc)
			return -1;
		bpf_loop(FLB_MAX_SLOTS, flb_lc_scan_step, &scan, 0);
		return scan.best < 0 ? -1 : flb_slot_ep(svc, scan.best);
	default: /* FLB_SEL_HASH */
		return flb_slot_ep(svc, flb_slot_of(flb_tuple_hash(&p->key), svc->n_slots));
	}
}

static __always_inline void flb_lc_add(__u32 rule, int ep, int delta)
{
	struct flb_lc_counts *lc = bpf_map_lookup_elem(&flb_lc, &rule);

	if (lc)
		__sync_fetch_and_add(&lc->active[ep & (FLB_MAX_ENDPOINTS - 1)], delta);
}

/*
 * Inserts the reverse entry (the reply as it will arrive) with BPF_NOEXIST, trying the client's
 * source port first and then FLB_SNAT_TRIES-1 hashed alternatives (the chosen port is left in
 * rkey->dport). Returns 0 on success, 1 if every port was taken, -1 on other errors.
 */
static __always_inline int flb_ct_insert_rev(const struct flb_pkt *p, struct flb_ct_key *rkey,
					     struct flb_ct_value *rev)
{
	for (__u32 attempt = 0; attempt < FLB_SNAT_TRIES; attempt++) {
		long rc;

		if (attempt)
			rkey->dport = bpf_htons(flb_alt_port(&p->key, attempt));
		rc = bpf_map_update_elem(&flb_ct, rkey, rev, BPF_NOEXIST);
		if (rc == 0)
			return 0;
		if (rc != -17 /* EEXIST */)
			return -1;
	}
	return 1;
}

static __always_inline int flb_new_flow(struct __sk_buff *skb, const struct flb_pkt *p,
					const struct flb_svc *svc, __u64 now)
{
	struct flb_ct_value v = {};
	struct flb_ct_key rkey = {};
	const struct flb_endpoint *ep;
	struct bpf_redir_neigh nh = {};
	struct flb_ct_value *existing;
	int idx, rc, decision;

	idx = svc->n_slots ? flb_select(svc, p, now) : -1;
	if (idx < 0) {
		flb_stat_inc(FLB_STAT_NO_ENDPOINT);
		return TC_ACT_SHOT;
	}
	ep = &svc->eps[idx & (FLB_MAX_ENDPOINTS - 1)];

	/* Reverse entry: endpoint -> (snat ip | client) : sport', translated back to VIP -> client. */
	rkey.saddr = ep->ip;
	rkey.daddr = ep->snat_ip ? ep->snat_ip : p->key.saddr;
	rkey.sport = ep->port;
	rkey.dport = p->key.sport;
	rkey.proto = p->key.proto;
	v.nat.saddr = p->key.daddr;
	v.nat.daddr = p->key.saddr;
	v.nat.sport = p->key.dport;
	v.nat.dport = p->key.sport;
	v.dir = FLB_CT_DIR_REV;
	v.state = p->key.proto == IPPROTO_TCP ? flb_tcp_initial(p->tcp_flags) : FLB_CT_ST_NEW;
	v.ep_idx = idx;
	v.rule_id = svc->rule_id;
	v.timeout_s = svc->ct_timeout_s;
	v.svc.vip = p->key.daddr;
	v.svc.port = p->key.dport;
	v.svc.proto = p->key.proto;
	v.svc.block = skb->mark;
	v.peer = p->key;
	v.created_ns = now;
	v.last_seen_ns = now;

	rc = flb_ct_insert_rev(p, &rkey, &v);
	if (rc) {
		flb_stat_inc(rc > 0 ? FLB_STAT_SNAT_PORT_BUSY : FLB_STAT_CT_FULL);
		return TC_ACT_SHOT;
	}

	/* Forward entry: the packet's tuple -> (snat ip | client) : sport' -> endpoint. */
	v.nat.saddr = rkey.daddr;
	v.nat.daddr = ep->ip;
	v.nat.sport = rkey.dport;
	v.nat.dport = ep->port;
	v.dir = FLB_CT_DIR_FWD;
	v.peer = rkey;
	v.packets = 1;
	v.bytes = skb->len;
	/* The first packet's forwarding decision goes into the entry: later packets reuse it. */
	decision = flb_fib_decide(skb, p, &v.nat, &v.fib, now, &nh);
	if (bpf_map_update_elem(&flb_ct, &p->key, &v, BPF_NOEXIST)) {
		/* Lost a race with another CPU (or the map is full): use the winner's entry. */
		bpf_map_delete_elem(&flb_ct, &rkey);
		existing = bpf_map_lookup_elem(&flb_ct, &p->key);
		if (existing)
			return flb_ct_hit(skb, p, existing, now);
		flb_stat_inc(FLB_STAT_CT_FULL);
		return TC_ACT_SHOT;
	}

	flb_lc_add(svc->rule_id, idx, 1);
	flb_stat_inc(FLB_STAT_NEW_FLOW);
	flb_ep_count(svc->rule_id, idx, skb->len);
	flb_emit(FLB_EV_CT_NEW, &p->key, &v);
	if (p->key.proto == IPPROTO_TCP && v.state == FLB_CT_ST_EST) {
		flb_stat_inc(FLB_STAT_MIDSTREAM_PICKUP);
		flb_emit(FLB_EV_CT_EST, &p->key, &v);
	}
	if (flb_nat_apply(skb, p, &v.nat))
		return TC_ACT_SHOT;
	return flb_fib_act(skb, decision, &v.fib, &nh);
}

#endif /* FLOATLB_LB_H */
