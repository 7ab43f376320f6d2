/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants of the BPF datapath that the uapi headers (floatlb/kernel.h) do not provide. */
#ifndef FLOATLB_CONSTS_H
#define FLOATLB_CONSTS_H

#define FLB_ETH_HLEN 14
#define AF_INET 2

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

#define FLB_TCP_FIN 0x01
#define FLB_TCP_SYN 0x02
#define FLB_TCP_RST 0x04
#define FLB_TCP_ACK 0x10

/* Offsets inside the IPv4 header and the L4 headers. */
#define FLB_IP_TTL_OFF 8
#define FLB_IP_CSUM_OFF 10
#define FLB_IP_SADDR_OFF 12
#define FLB_IP_DADDR_OFF 16
#define FLB_L4_SPORT_OFF 0
#define FLB_L4_DPORT_OFF 2
#define FLB_TCP_CSUM_OFF 16
#define FLB_UDP_CSUM_OFF 6

#endif /* FLOATLB_CONSTS_H */
