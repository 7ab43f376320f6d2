#include "ha/sync_planner.h"

#include <netinet/in.h>

#include <algorithm>
#include <unordered_set>

namespace floatlb::ha {

bool syncable(const flb_ct_value& v, uint8_t proto) {
  if (proto == IPPROTO_UDP) return v.state == FLB_CT_ST_EST;
  return v.state == FLB_CT_ST_EST || v.state == FLB_CT_ST_FIN_WAIT;
}

size_t upsertCount(const std::vector<SyncMessage>& plan) {
  size_t n = 0;
  for (const auto& m : plan) {
    if (const auto* u = std::get_if<SyncUpsert>(&m)) n += u->entries.size();
  }
  return n;
}

void SyncPlanner::appendUpserts(std::vector<SyncMessage>& out,
                                const std::vector<dataplane::CtEntry>& entries) {
  for (size_t i = 0; i < entries.size(); i += kSyncSendBatch) {
    SyncUpsert u;
    u.entries.assign(entries.begin() + static_cast<long>(i),
                     entries.begin() + static_cast<long>(std::min(entries.size(), i + kSyncSendBatch)));
    out.emplace_back(std::move(u));
  }
  for (const auto& e : entries) sent_[e.key] = e.value.last_seen_ns;
}

void SyncPlanner::appendDeletes(std::vector<SyncMessage>& out, const std::vector<flb_ct_key>& keys) {
  for (size_t i = 0; i < keys.size(); i += kSyncSendBatch) {
    SyncDelete d;
    d.keys.assign(keys.begin() + static_cast<long>(i),
                  keys.begin() + static_cast<long>(std::min(keys.size(), i + kSyncSendBatch)));
    out.emplace_back(std::move(d));
  }
}

std::vector<SyncMessage> SyncPlanner::connected(const std::vector<dataplane::CtEntry>& dump, TimePoint now) {
  std::vector<dataplane::CtEntry> entries;
  for (const auto& e : dump) {
    if (syncable(e.value, e.key.proto)) entries.push_back(e);
  }
  sent_.clear();
  std::vector<SyncMessage> out{SyncFullBegin{}};
  appendUpserts(out, entries);
  out.emplace_back(SyncFullEnd{static_cast<uint32_t>(entries.size())});
  next_refresh_ = now + refresh_interval_;
  return out;
}

std::vector<SyncMessage> SyncPlanner::tick(const SyncPending& pending,
                                           const std::vector<dataplane::CtEntry>* dump, TimePoint now) {
  std::vector<SyncMessage> out;
  appendUpserts(out, pending.upserts);
  for (const auto& k : pending.deletes) sent_.erase(k);
  appendDeletes(out, pending.deletes);
  if (!refreshDue(now) || dump == nullptr) return out;
  std::vector<dataplane::CtEntry> changed;
  std::unordered_set<flb_ct_key, CtKeyHash, CtKeyEq> present;
  for (const auto& e : *dump) {
    if (!syncable(e.value, e.key.proto)) continue;
    present.insert(e.key);
    auto it = sent_.find(e.key);
    if (it == sent_.end() || it->second != e.value.last_seen_ns) changed.push_back(e);
  }
  std::vector<flb_ct_key> gone;
  for (auto it = sent_.begin(); it != sent_.end();) {
    if (!present.count(it->first)) {
      gone.push_back(it->first);
      it = sent_.erase(it);
    } else {
      ++it;
    }
  }
  appendUpserts(out, changed);
  appendDeletes(out, gone);
  out.emplace_back(SyncPing{++ping_seq_});
  next_refresh_ = now + refresh_interval_;
  return out;
}

void SyncPlanner::disconnected() {
  sent_.clear();
  next_refresh_ = TimePoint::max();
}

}  // namespace floatlb::ha
