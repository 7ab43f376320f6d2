// Pure conntrack aging decisions (no maps, no clock): which entries of a conntrack dump have been
// idle longer than their state allows, and which least-connection counters must be released.
#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "dataplane/datapath.h"

namespace floatlb::dataplane {

// Timeouts by state (docs/dataplane.md); established flows use the rule's inactivity timeout.
inline constexpr uint32_t kTcpOpeningTimeoutS = 10;  // SYN_SENT / SYN_RECV
inline constexpr uint32_t kTcpFinWaitTimeoutS = 30;
inline constexpr uint32_t kTcpClosedTimeoutS = 10;  // TIME_WAIT / CLOSED
inline constexpr uint32_t kUdpNewTimeoutS = 10;
inline constexpr uint32_t kDefaultTcpEstTimeoutS = 240;  // when the rule gave 0
inline constexpr uint32_t kDefaultUdpEstTimeoutS = 20;

// Inactivity timeout of an entry in `state` (enum flb_ct_state) of protocol `proto`.
Duration ctTimeout(uint8_t proto, uint8_t state, uint32_t est_timeout_s);

// Should a connection whose entries were last seen at last_seen_ns (the max over both entries)
// be removed at `now`?
bool shouldExpire(uint8_t proto, uint8_t state, uint32_t est_timeout_s, uint64_t last_seen_ns, TimePoint now);

struct LcRelease {
  uint32_t rule_id;
  uint8_t ep_idx;
};

struct AgingPlan {
  size_t examined = 0;
  std::vector<flb_ct_key> remove;     // both directions of each expired connection
  std::vector<LcRelease> lc_release;  // forward entries this node's datapath created
};

// Decides per connection: idle = now - max(last_seen of both entries). An entry whose peer is
// missing is judged on its own.
AgingPlan planAging(const std::vector<CtEntry>& entries, TimePoint now);

// Entries of rule_id (both directions) and their lc releases.
AgingPlan planFlushRule(const std::vector<CtEntry>& entries, uint32_t rule_id);

}  // namespace floatlb::dataplane
