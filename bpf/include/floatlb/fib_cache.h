/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Validity rule of the per-flow forwarding cache (struct flb_fib_cache). Pure: shared with the
 * C++ unit tests.
 */
#ifndef FLOATLB_FIB_CACHE_H
#define FLOATLB_FIB_CACHE_H

#include "floatlb/abi.h"

/* May a packet that arrived on iif at time now reuse the cached decision fc? */
static inline int flb_fib_cache_fresh(const struct flb_fib_cache *fc, __u32 iif, __u32 gen, __u64 now)
{
	return fc->kind != FLB_FIB_NONE && fc->iif == iif && fc->gen == gen &&
	       now - fc->checked_ns < FLB_FIB_REVALIDATE_NS;
}

#endif /* FLOATLB_FIB_CACHE_H */
