/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * floatlb BPF ABI: every map key/value and event struct shared between the eBPF datapath and the
 * C++ control plane. This is the ONLY definition; the C++ side includes this header and checks
 * sizes/offsets with static_assert (src/dataplane/abi_check.cpp). Changing a struct here changes
 * the pinned-map layout: bump FLB_ABI_VERSION so a restarted daemon refuses to adopt old maps.
 *
 * Byte order: fields named *addr, ip, vip, port are network order (__be32/__be16) exactly as they
 * appear in packets; everything else is host order.
 */
#ifndef FLOATLB_ABI_H
#define FLOATLB_ABI_H

#if defined(__bpf__)
/* BPF side: types come from floatlb/kernel.h (uapi), included by the program before this header. */
#else
#include <linux/types.h>
#endif

#define FLB_ABI_VERSION 2 /* 2: flb_ct_value.fib (per-flow forwarding cache), flb_fib_gen */

#define FLB_MAX_ENDPOINTS 32   /* per rule (reference: MaxLBEndPoints) */
#define FLB_MAX_SLOTS 64       /* selection table entries per rule (weighted expansion) */
#define FLB_MAX_RULES 4096     /* rule ids 0..4095; the API caps rules at 2048 (reference) */
#define FLB_CT_MAX_ENTRIES 262144
#define FLB_PERSIST_MAX_ENTRIES 65536
#define FLB_EVENTS_BYTES (1 << 20)

enum flb_mode {
	FLB_MODE_DNAT = 0,    /* "default": rewrite destination, client IP preserved */
	FLB_MODE_ONEARM = 1,  /* DNAT + SNAT to the LB's interface address towards the endpoint */
	FLB_MODE_FULLNAT = 2, /* DNAT + SNAT to the VIP (privateIP when given) */
};

enum flb_sel {
	FLB_SEL_RR = 0,
	FLB_SEL_HASH = 1,     /* hash over the full 5-tuple */
	FLB_SEL_PRIO = 2,     /* weighted: slots expanded by weight, walked round-robin */
	FLB_SEL_PERSIST = 3,  /* same source IP -> same endpoint for persist_timeout_s */
	FLB_SEL_LC = 4,       /* least active connections */
};

/* Service (rule) lookup key: what a new flow's first packet is matched against. */
struct flb_svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;   /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad;
	__u32 block;  /* "block"/mark to segregate services on the same VIP:port; matched to skb->mark */
};

#define FLB_EP_F_ACTIVE 0x1 /* healthy and selectable */

struct flb_endpoint {
	__be32 ip;
	__be32 snat_ip;  /* source address towards the endpoint; 0 = keep the client's (DNAT) */
	__be16 port;
	__u8 weight;
	__u8 flags;      /* FLB_EP_F_* */
};

struct flb_svc {
	__u32 rule_id;           /* index into per-rule maps (rr cursor, lc counts, stats) */
	__u8 mode;               /* enum flb_mode */
	__u8 sel;                /* enum flb_sel */
	__u8 n_eps;              /* valid entries in eps[] */
	__u8 n_slots;            /* valid entries in slots[]; 0 = no healthy endpoint */
	__u32 ct_timeout_s;      /* inactivity timeout of established flows */
	__u32 persist_timeout_s; /* FLB_SEL_PERSIST only */
	__u8 slots[FLB_MAX_SLOTS]; /* endpoint index per slot; only active endpoints appear */
	struct flb_endpoint eps[FLB_MAX_ENDPOINTS];
};

/* Conntrack key: the packet's own 5-tuple as it arrives at the LB. */
struct flb_ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Rewrite applied to packets that match an entry: new source and destination. */
struct flb_nat {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

enum flb_ct_dir {
	FLB_CT_DIR_FWD = 0, /* client -> VIP (as received) */
	FLB_CT_DIR_REV = 1, /* endpoint -> LB (the reply, after translation) */
};

enum flb_ct_state {
	FLB_CT_ST_NEW = 0,      /* UDP: seen one direction only */
	FLB_CT_ST_SYN_SENT = 1,
	FLB_CT_ST_SYN_RECV = 2,
	FLB_CT_ST_EST = 3,      /* TCP established / UDP seen both directions */
	FLB_CT_ST_FIN_WAIT = 4, /* one side sent FIN */
	FLB_CT_ST_TIME_WAIT = 5,/* both sides sent FIN */
	FLB_CT_ST_CLOSED = 6,   /* RST seen */
	FLB_CT_ST_MAX = 7,
};

#define FLB_CT_F_FIN_FWD 0x1 /* FIN seen from the client side */
#define FLB_CT_F_FIN_REV 0x2 /* FIN seen from the endpoint side */
#define FLB_CT_F_SYNCED 0x4  /* installed by HA connection sync, not by this node's datapath */

enum flb_fib_kind {
	FLB_FIB_NONE = 0,     /* nothing cached: look the route up on the next packet */
	FLB_FIB_REDIRECT = 1, /* rewrite MACs, TTL--, bpf_redirect(oif) */
	FLB_FIB_KERNEL = 2,   /* the fib lookup declined (no route, local, forwarding off): TC_ACT_OK */
};

/*
 * Per-flow forwarding decision, so bpf_fib_lookup runs once per flow and not per packet. Valid
 * while kind != NONE, iif equals the packet's ingress ifindex, gen equals flb_fib_gen[0] (bumped
 * by the control plane when routes/neighbours change) and the lookup is younger than
 * FLB_FIB_REVALIDATE_NS. Node-local: cleared when an entry is installed by HA sync.
 */
struct flb_fib_cache {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 oif;        /* egress ifindex (FLB_FIB_REDIRECT) */
	__u32 iif;        /* ingress ifindex the decision was made for */
	__u32 gen;        /* flb_fib_gen[0] at the time of the lookup */
	__u8 kind;        /* enum flb_fib_kind */
	__u8 pad[3];
	__u64 checked_ns; /* when the lookup ran (same clock as last_seen_ns) */
};

#define FLB_FIB_REVALIDATE_NS 250000000ULL /* a cached decision is re-checked after 250 ms */

struct flb_ct_value {
	struct flb_nat nat;
	__u8 dir;        /* enum flb_ct_dir */
	__u8 state;      /* enum flb_ct_state, kept equal in both entries of a connection */
	__u8 ep_idx;     /* selected endpoint index in the rule */
	__u8 flags;      /* FLB_CT_F_* */
	__u32 rule_id;
	__u32 timeout_s; /* established inactivity timeout copied from the rule */
	__u32 pad;
	struct flb_svc_key svc; /* the service this flow belongs to (rule ids differ across nodes) */
	struct flb_ct_key peer; /* key of the other direction's entry */
	__u64 created_ns;       /* bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC at tick resolution */
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	struct flb_fib_cache fib;
};

/* Persist selection memory: (rule, client address) -> endpoint. */
struct flb_persist_key {
	__u32 rule_id;
	__be32 saddr;
};

struct flb_persist_value {
	__u8 ep_idx;
	__u8 pad[7];
	__u64 last_ns;
};

/* Least-connection bookkeeping per rule: active flows per endpoint index. */
struct flb_lc_counts {
	__u32 active[FLB_MAX_ENDPOINTS];
};

struct flb_counter {
	__u64 packets;
	__u64 bytes;
};

/* Global datapath counters (PERCPU_ARRAY index). Names in C++: statName() in src/dataplane. */
enum flb_stat {
	FLB_STAT_RX = 0,            /* packets seen by the program */
	FLB_STAT_PASS,              /* not ours: passed to the kernel untouched */
	FLB_STAT_CT_HIT,            /* translated via an existing conntrack entry */
	FLB_STAT_NEW_FLOW,          /* new connection: endpoint selected, entries created */
	FLB_STAT_NO_ENDPOINT,       /* service matched but no healthy endpoint: dropped */
	FLB_STAT_CT_FULL,           /* conntrack insert failed: dropped */
	FLB_STAT_SNAT_PORT_BUSY,    /* no free SNAT source port after retries: dropped */
	FLB_STAT_FIB_REDIRECT,      /* forwarded by bpf_fib_lookup + redirect */
	FLB_STAT_FIB_NEIGH,         /* forwarded by bpf_redirect_neigh (no neighbour entry yet) */
	FLB_STAT_FIB_KERNEL,        /* fib lookup declined: handed to the kernel stack after NAT */
	FLB_STAT_MIDSTREAM_PICKUP,  /* TCP non-SYN without conntrack entry: flow picked up (loose) */
	FLB_STAT_FRAGMENT,          /* IPv4 fragment to a service: passed (not supported yet) */
	FLB_STAT_EVENT_LOST,        /* ring buffer full: event not delivered */
	FLB_STAT_MAX,
};

enum flb_event_type {
	FLB_EV_CT_NEW = 1,    /* a connection's entries were created */
	FLB_EV_CT_EST = 2,    /* a connection became established */
	FLB_EV_CT_CLOSED = 3, /* a connection saw FIN from both sides or RST */
};

/* Ring buffer record (map flb_events): one per connection transition, forward entry only. */
struct flb_ct_event {
	__u32 type;
	__u32 pad;
	struct flb_ct_key key;
	struct flb_ct_value value;
};

#endif /* FLOATLB_ABI_H */
