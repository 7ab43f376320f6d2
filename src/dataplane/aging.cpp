#include "dataplane/aging.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace floatlb::dataplane {
namespace {

struct KeyLess {
  bool operator()(const flb_ct_key& a, const flb_ct_key& b) const {
    return std::memcmp(&a, &b, sizeof a) < 0;
  }
};

bool releasesLc(const flb_ct_value& v) { return v.dir == FLB_CT_DIR_FWD && (v.flags & FLB_CT_F_SYNCED) == 0; }

void addRemoval(AgingPlan& plan, const CtEntry& e) {
  plan.remove.push_back(e.key);
  if (releasesLc(e.value)) plan.lc_release.push_back({e.value.rule_id, e.value.ep_idx});
}

}  // namespace

Duration ctTimeout(uint8_t proto, uint8_t state, uint32_t est_timeout_s) {
  uint32_t s = 0;
  if (proto == IPPROTO_TCP) {
    switch (state) {
      case FLB_CT_ST_SYN_SENT:
      case FLB_CT_ST_SYN_RECV:
        s = kTcpOpeningTimeoutS;
        break;
      case FLB_CT_ST_EST:
        s = est_timeout_s ? est_timeout_s : kDefaultTcpEstTimeoutS;
        break;
      case FLB_CT_ST_FIN_WAIT:
        s = kTcpFinWaitTimeoutS;
        break;
      default:  // TIME_WAIT, CLOSED, and NEW (never used for TCP)
        s = kTcpClosedTimeoutS;
        break;
    }
  } else {
    s = state == FLB_CT_ST_EST ? (est_timeout_s ? est_timeout_s : kDefaultUdpEstTimeoutS) : kUdpNewTimeoutS;
  }
  return std::chrono::seconds(s);
}

bool shouldExpire(uint8_t proto, uint8_t state, uint32_t est_timeout_s, uint64_t last_seen_ns,
                  TimePoint now) {
  const uint64_t now_ns = toNanos(now);
  const uint64_t idle_ns = now_ns > last_seen_ns ? now_ns - last_seen_ns : 0;
  return Duration(static_cast<int64_t>(idle_ns)) > ctTimeout(proto, state, est_timeout_s);
}

AgingPlan planAging(const std::vector<CtEntry>& entries, TimePoint now) {
  AgingPlan plan;
  plan.examined = entries.size();
  std::map<flb_ct_key, const CtEntry*, KeyLess> by_key;
  for (const auto& e : entries) by_key.emplace(e.key, &e);

  for (const auto& e : entries) {
    auto peer_it = by_key.find(e.value.peer);
    const CtEntry* peer = peer_it == by_key.end() ? nullptr : peer_it->second;
    // Each connection is decided once: from its forward entry, or from an orphan.
    if (peer != nullptr && e.value.dir != FLB_CT_DIR_FWD) continue;
    const uint64_t last = std::max(e.value.last_seen_ns, peer ? peer->value.last_seen_ns : 0);
    if (!shouldExpire(e.key.proto, e.value.state, e.value.timeout_s, last, now)) continue;
    addRemoval(plan, e);
    if (peer != nullptr) addRemoval(plan, *peer);
  }
  return plan;
}

AgingPlan planFlushRule(const std::vector<CtEntry>& entries, uint32_t rule_id) {
  AgingPlan plan;
  plan.examined = entries.size();
  for (const auto& e : entries) {
    if (e.value.rule_id == rule_id) addRemoval(plan, e);
  }
  return plan;
}

}  // namespace floatlb::dataplane
