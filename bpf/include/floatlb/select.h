/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pure endpoint-selection pieces: no helpers, no maps, only ABI structs. Included by the BPF
 * program AND by the C++ unit tests (tests/unit/dataplane), so both test the very same code.
 */
#ifndef FLOATLB_SELECT_H
#define FLOATLB_SELECT_H

#include "floatlb/abi.h"

#define FLB_HASH_SEED 0x5bd1e995u
#define FLB_SNAT_TRIES 8            /* source ports tried for one new flow (the client's + 7) */
#define FLB_SNAT_PORT_MIN 1024u     /* alternative source ports are drawn from [1024, 65535] */
#define FLB_PERSIST_DEFAULT_S 10800 /* used when a rule's persist_timeout_s is 0 */

static inline __u32 flb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* MurmurHash3 (x86_32) block step and finaliser: every input bit affects every output bit. */
static inline __u32 flb_hash_step(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = flb_rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = flb_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline __u32 flb_hash_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Hash of the full 5-tuple (network-order fields as they are in the packet). */
static inline __u32 flb_tuple_hash(const struct flb_ct_key *k)
{
	__u32 h = FLB_HASH_SEED;

	h = flb_hash_step(h, k->saddr);
	h = flb_hash_step(h, k->daddr);
	h = flb_hash_step(h, ((__u32)k->sport << 16) | k->dport);
	h = flb_hash_step(h, k->proto);
	return flb_hash_final(h, 16);
}

/* Hash of the client address only (persist selection). */
static inline __u32 flb_addr_hash(__be32 addr)
{
	return flb_hash_final(flb_hash_step(FLB_HASH_SEED, addr), 4);
}

/* Slot for a hash or an rr cursor; n_slots must be > 0. */
static inline __u32 flb_slot_of(__u32 value, __u8 n_slots)
{
	return value % n_slots;
}

/* Endpoint index in slot `slot`, or -1 if the service is inconsistent (index out of range). */
static inline int flb_slot_ep(const struct flb_svc *svc, __u32 slot)
{
	__u8 ep = svc->slots[slot & (FLB_MAX_SLOTS - 1)];

	if (ep >= svc->n_eps || ep >= FLB_MAX_ENDPOINTS)
		return -1;
	return ep;
}

/* May a remembered endpoint (persist) still be used? Slots hold exactly the active endpoints. */
static inline int flb_ep_selectable(const struct flb_svc *svc, __u8 ep)
{
	return ep < svc->n_eps && ep < FLB_MAX_ENDPOINTS && (svc->eps[ep].flags & FLB_EP_F_ACTIVE);
}

/*
 * Least-connection scan, one slot per call so the BPF side can run it under bpf_loop() (a plain
 * 64-iteration loop with a running minimum explodes the verifier's state space). Picks the first
 * slot whose endpoint has the fewest active connections. Returns 1 to stop.
 */
struct flb_lc_scan {
	const struct flb_svc *svc;
	const struct flb_lc_counts *lc;
	__u32 best_count;
	__s32 best; /* slot index, -1 = none */
};

static long flb_lc_scan_step(__u32 i, void *ctx)
{
	struct flb_lc_scan *s = (struct flb_lc_scan *)ctx;
	__u8 ep;
	__u32 c;

	if (i >= s->svc->n_slots || i >= FLB_MAX_SLOTS)
		return 1;
	ep = s->svc->slots[i] & (FLB_MAX_ENDPOINTS - 1);
	c = s->lc->active[ep];
	if (c < s->best_count) {
		s->best_count = c;
		s->best = (__s32)i;
	}
	return 0;
}

#if !defined(__bpf__)
/* User-space driver of the same step (the BPF side uses bpf_loop). */
static inline int flb_lc_pick(const struct flb_svc *svc, const struct flb_lc_counts *lc)
{
	struct flb_lc_scan s = {svc, lc, 0xffffffffu, -1};

	for (__u32 i = 0; i < FLB_MAX_SLOTS; i++)
		if (flb_lc_scan_step(i, &s))
			break;
	return s.best;
}
#endif

/* Is a persist memory entry still valid? */
static inline int flb_persist_fresh(__u64 last_ns, __u64 now_ns, __u32 timeout_s)
{
	__u64 t = (__u64)(timeout_s ? timeout_s : FLB_PERSIST_DEFAULT_S) * 1000000000ull;

	return now_ns >= last_ns && now_ns - last_ns < t;
}

/* Alternative SNAT source port (host order) for attempt >= 1; attempt 0 keeps the client's. */
static inline __u16 flb_alt_port(const struct flb_ct_key *k, __u32 attempt)
{
	__u32 h = flb_hash_final(flb_hash_step(flb_tuple_hash(k), attempt * 0x9e3779b9u), 20);

	return (__u16)(FLB_SNAT_PORT_MIN + h % (65536u - FLB_SNAT_PORT_MIN));
}

#endif /* FLOATLB_SELECT_H */
