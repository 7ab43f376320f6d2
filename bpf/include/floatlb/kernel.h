/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel types of the BPF datapath from the uapi headers only (no vmlinux.h): the program
 * builds on any machine, in a container or without /sys/kernel/btf/vmlinux, for any kernel.
 */
#ifndef FLOATLB_KERNEL_H
#define FLOATLB_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/*
 * The one kernel-internal field the program reads: skb->ip_summed (through
 * bpf_cast_to_kern_ctx, nat.h). A local CO-RE definition: libbpf relocates the bitfield's offset
 * and width against the running kernel's BTF when the program is loaded.
 */
struct sk_buff {
	__u8 ip_summed : 2;
} __attribute__((preserve_access_index));

#endif /* FLOATLB_KERNEL_H */
