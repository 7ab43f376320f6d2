/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the tc datapath. All are pinned by name (LIBBPF_PIN_BY_NAME) under the daemon's
 * pin root, so a restarted daemon re-adopts services, conntrack and counters.
 */
#ifndef FLOATLB_MAPS_H
#define FLOATLB_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLB_MAX_RULES);
	__type(key, struct flb_svc_key);
	__type(value, struct flb_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLB_CT_MAX_ENTRIES);
	__type(key, struct flb_ct_key);
	__type(value, struct flb_ct_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_ct SEC(".maps");

/* rule_id -> round-robin cursor (rr and prio). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLB_MAX_RULES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_rr SEC(".maps");

/* rule_id -> active connections per endpoint. Mmapable so user space can decrement atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLB_MAX_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct flb_lc_counts);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_lc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLB_PERSIST_MAX_ENTRIES);
	__type(key, struct flb_persist_key);
	__type(value, struct flb_persist_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_persist SEC(".maps");

/* rule_id * FLB_MAX_ENDPOINTS + ep_idx -> packets/bytes (both directions). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLB_MAX_RULES * FLB_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct flb_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_ep_stats SEC(".maps");

/* enum flb_stat -> packet count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLB_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FLB_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_events SEC(".maps");

/* [0] = FLB_ABI_VERSION of whoever created the pinned maps; checked by user space on adoption. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_meta SEC(".maps");

/*
 * [0] = forwarding generation: the control plane bumps it when routes or neighbours change, which
 * invalidates every per-flow fib cache (flb_ct_value.fib) at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flb_fib_gen SEC(".maps");

static __always_inline void flb_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&flb_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void flb_ep_count(__u32 rule_id, __u32 ep_idx, __u32 bytes)
{
	__u32 idx;
	struct flb_counter *c;

	if (rule_id >= FLB_MAX_RULES || ep_idx >= FLB_MAX_ENDPOINTS)
		return;
	idx = rule_id * FLB_MAX_ENDPOINTS + ep_idx;
	c = bpf_map_lookup_elem(&flb_ep_stats, &idx);
	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

#endif /* FLOATLB_MAPS_H */
