/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Conntrack: the hit path (state tracking, counters, events) and ring-buffer events. */
#ifndef FLOATLB_CONNTRACK_H
#define FLOATLB_CONNTRACK_H

/* Emits one event for a connection; key/value are those of the forward entry. */
static __always_inline void flb_emit(__u32 type, const struct flb_ct_key *key,
				     const struct flb_ct_value *value)
{
	struct flb_ct_event *ev = bpf_ringbuf_reserve(&flb_events, sizeof(*ev), 0);

	if (!ev) {
		flb_stat_inc(FLB_STAT_EVENT_LOST);
		return;
	}
	ev->type = type;
	ev->pad = 0;
	__builtin_memcpy(&ev->key, key, sizeof(*key));
	__builtin_memcpy(&ev->value, value, sizeof(*value));
	bpf_ringbuf_submit(ev, 0);
}

/* Applies a state transition to this entry and its peer, and emits the event if any. */
static __always_inline void flb_ct_transition(const struct flb_ct_key *key, struct flb_ct_value *v,
					      struct flb_ct_step step)
{
	struct flb_ct_value *peer;

	if (step.state == v->state && step.flags == v->flags && !step.event)
		return;
	v->state = step.state;
	v->flags = (v->flags & FLB_CT_F_SYNCED) | (step.flags & ~FLB_CT_F_SYNCED);
	peer = bpf_map_lookup_elem(&flb_ct, &v->peer);
	if (peer) {
		peer->state = step.state;
		peer->flags = (peer->flags & FLB_CT_F_SYNCED) | (step.flags & ~FLB_CT_F_SYNCED);
	}
	if (!step.event)
		return;
	if (v->dir == FLB_CT_DIR_FWD)
		flb_emit(step.event, key, v);
	else if (peer)
		flb_emit(step.event, &v->peer, peer);
}

static __always_inline struct flb_ct_step flb_ct_step_for(const struct flb_pkt *p,
							  const struct flb_ct_value *v)
{
	if (p->key.proto == IPPROTO_TCP)
		return flb_tcp_next(v->state, v->flags, v->dir, p->tcp_flags);
	return flb_udp_next(v->state, v->flags, v->dir);
}

/* A packet matched entry v: account, track state, translate, forward. */
static __always_inline int flb_ct_hit(struct __sk_buff *skb, const struct flb_pkt *p,
				      struct flb_ct_value *v, __u64 now)
{
	struct bpf_redir_neigh nh = {};
	struct flb_nat nat = v->nat;
	int decision;

	if (v->last_seen_ns != now) /* coarse clock: changes once per tick */
		v->last_seen_ns = now;
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, skb->len);
	flb_ct_transition(&p->key, v, flb_ct_step_for(p, v));
	flb_ep_count(v->rule_id, v->ep_idx, skb->len);
	flb_stat_inc(FLB_STAT_CT_HIT);
	decision = flb_fib_decide(skb, p, &nat, &v->fib, now, &nh);
	if (flb_nat_apply(skb, p, &nat))
		return TC_ACT_SHOT;
	return flb_fib_act(skb, decision, &v->fib, &nh);
}

#endif /* FLOATLB_CONNTRACK_H */
