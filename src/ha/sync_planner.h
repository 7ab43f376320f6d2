// What the MASTER's sync sender sends to one peer, decided without sockets or threads (pure,
// driven by an injected time). SyncService's sender loop owns the connection and the event
// queue; per connection and per batch window it asks the planner for the frames to send, in
// order, and sends them as they come:
//  - connected(): FULL_BEGIN, every syncable entry of the dump (in batches), FULL_END;
//  - tick(): the changes the datapath's event ring queued in the window (upserts, then
//    deletions), then, when the refresh is due (every refresh interval), the delta against a
//    fresh dump: entries new or used since they were last sent, deletions of entries that
//    disappeared, and a PING to measure the sync lag;
//  - disconnected(): forget what was sent (the next connection starts with a full sync).
// Syncable: established TCP (and TCP closing in FIN_WAIT, so the close replicates), established UDP.
#pragma once

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "dataplane/datapath.h"
#include "ha/sync_codec.h"

namespace floatlb::ha {

inline constexpr size_t kSyncSendBatch = 1024;  // entries per CT_UPSERT / keys per CT_DELETE

struct CtKeyHash {
  size_t operator()(const flb_ct_key& k) const noexcept {
    uint64_t h =
        (uint64_t{k.saddr} << 32) ^ k.daddr ^ (uint64_t{k.sport} << 16) ^ (uint64_t{k.dport} << 40) ^ k.proto;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 33));
  }
};
struct CtKeyEq {
  bool operator()(const flb_ct_key& a, const flb_ct_key& b) const noexcept {
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
};

bool syncable(const flb_ct_value& v, uint8_t proto);

struct SyncPending {
  std::vector<dataplane::CtEntry> upserts;
  std::vector<flb_ct_key> deletes;
};

class SyncPlanner {
 public:
  explicit SyncPlanner(Duration refresh_interval) : refresh_interval_(refresh_interval) {}

  std::vector<SyncMessage> connected(const std::vector<dataplane::CtEntry>& dump, TimePoint now);
  // True when tick() wants a dump (the refresh pass is due).
  [[nodiscard]] bool refreshDue(TimePoint now) const { return now >= next_refresh_; }
  // `dump` is the datapath's conntrack table when refreshDue(now), otherwise ignored (may be null).
  std::vector<SyncMessage> tick(const SyncPending& pending, const std::vector<dataplane::CtEntry>* dump,
                                TimePoint now);
  void disconnected();

  [[nodiscard]] size_t tracked() const { return sent_.size(); }  // entries the peer holds, as we know
  [[nodiscard]] uint64_t pingSeq() const { return ping_seq_; }

 private:
  void appendUpserts(std::vector<SyncMessage>& out, const std::vector<dataplane::CtEntry>& entries);
  static void appendDeletes(std::vector<SyncMessage>& out, const std::vector<flb_ct_key>& keys);

  Duration refresh_interval_;
  TimePoint next_refresh_{TimePoint::max()};
  uint64_t ping_seq_ = 0;
  std::unordered_map<flb_ct_key, uint64_t, CtKeyHash, CtKeyEq> sent_;  // key -> last_seen_ns sent
};

// Entries in the upsert frames of a plan (for the entries-sent counter).
size_t upsertCount(const std::vector<SyncMessage>& plan);

}  // namespace floatlb::ha
