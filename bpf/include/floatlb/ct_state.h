/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pure connection state machine (TCP flags / UDP direction -> next state + event). Shared with the
 * C++ unit tests. The state is kept equal in both entries of a connection by the caller.
 */
#ifndef FLOATLB_CT_STATE_H
#define FLOATLB_CT_STATE_H

#include "floatlb/abi.h"

#define FLB_TCPF_FIN 0x01
#define FLB_TCPF_SYN 0x02
#define FLB_TCPF_RST 0x04
#define FLB_TCPF_ACK 0x10

struct flb_ct_step {
	__u8 state;
	__u8 flags; /* FLB_CT_F_* */
	__u8 event; /* enum flb_event_type, 0 = none */
};

/* Initial state of a new TCP connection given the first packet's flags. */
static inline __u8 flb_tcp_initial(__u8 tcp_flags)
{
	if ((tcp_flags & (FLB_TCPF_SYN | FLB_TCPF_ACK)) == FLB_TCPF_SYN)
		return FLB_CT_ST_SYN_SENT;
	return FLB_CT_ST_EST; /* mid-stream pickup (loose, like nf_conntrack_tcp_loose) */
}

static inline struct flb_ct_step flb_tcp_next(__u8 state, __u8 flags, __u8 dir, __u8 tcp_flags)
{
	struct flb_ct_step s = {state, flags, 0};

	if (tcp_flags & FLB_TCPF_RST) {
		if (state != FLB_CT_ST_CLOSED) {
			s.state = FLB_CT_ST_CLOSED;
			if (state != FLB_CT_ST_TIME_WAIT)
				s.event = FLB_EV_CT_CLOSED;
		}
		return s;
	}
	if ((tcp_flags & (FLB_TCPF_SYN | FLB_TCPF_ACK)) == FLB_TCPF_SYN && dir == FLB_CT_DIR_FWD &&
	    (state == FLB_CT_ST_TIME_WAIT || state == FLB_CT_ST_CLOSED)) {
		/* the client reuses the tuple of a finished connection */
		s.state = FLB_CT_ST_SYN_SENT;
		s.flags = flags & ~(FLB_CT_F_FIN_FWD | FLB_CT_F_FIN_REV);
		return s;
	}
	if (tcp_flags & FLB_TCPF_FIN) {
		s.flags |= dir == FLB_CT_DIR_FWD ? FLB_CT_F_FIN_FWD : FLB_CT_F_FIN_REV;
		if ((s.flags & (FLB_CT_F_FIN_FWD | FLB_CT_F_FIN_REV)) == (FLB_CT_F_FIN_FWD | FLB_CT_F_FIN_REV)) {
			if (state != FLB_CT_ST_TIME_WAIT && state != FLB_CT_ST_CLOSED) {
				s.state = FLB_CT_ST_TIME_WAIT;
				s.event = FLB_EV_CT_CLOSED;
			}
		} else if (state < FLB_CT_ST_FIN_WAIT) {
			s.state = FLB_CT_ST_FIN_WAIT;
		}
		return s;
	}
	if (state == FLB_CT_ST_SYN_SENT && dir == FLB_CT_DIR_REV &&
	    (tcp_flags & (FLB_TCPF_SYN | FLB_TCPF_ACK)) == (FLB_TCPF_SYN | FLB_TCPF_ACK)) {
		s.state = FLB_CT_ST_SYN_RECV;
	} else if (state == FLB_CT_ST_SYN_RECV && dir == FLB_CT_DIR_FWD &&
		   (tcp_flags & (FLB_TCPF_SYN | FLB_TCPF_ACK)) == FLB_TCPF_ACK) {
		s.state = FLB_CT_ST_EST;
		s.event = FLB_EV_CT_EST;
	}
	return s;
}

static inline struct flb_ct_step flb_udp_next(__u8 state, __u8 flags, __u8 dir)
{
	struct flb_ct_step s = {state, flags, 0};

	if (state == FLB_CT_ST_NEW && dir == FLB_CT_DIR_REV) {
		s.state = FLB_CT_ST_EST;
		s.event = FLB_EV_CT_EST;
	}
	return s;
}

#endif /* FLOATLB_CT_STATE_H */
