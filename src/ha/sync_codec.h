// Connection-sync wire protocol (TCP 22222), pure encode/decode. Documented in docs/ha.md.
//
// Frame = header (28 bytes, big endian) + payload [+ 32-byte HMAC-SHA256 of header+payload when
// the peers share a key]:
//   0 magic "FLSY" | 4 version (2) | 5 type | 6 flags (bit0: authenticated, bit1: reply) |
//   8 payload length (u32) | 12 boot epoch (u64) | 20 sequence (u64)
// (boot, sequence) is the sender's replay stamp (replay.h), one sequence per direction: the side
// that opened the connection sends data frames, the accepting side sends replies (PONG) with the
// reply flag, so a frame of one direction cannot be replayed into the other.
// Payloads:
//   HELLO       node id u32, epoch u64, role u8, abi version u32, entry size u32
//   CT_UPSERT   count u32, count x (flb_ct_key, flb_ct_value) raw ABI bytes
//   CT_DELETE   count u32, count x flb_ct_key
//   FULL_BEGIN  (empty)            FULL_END  count u32 (entries sent in the full sync)
//   PING / PONG seq u64 (sync-lag measurement)
// Both peers must run the same FLB_ABI_VERSION (checked in HELLO): the entries are map bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "dataplane/datapath.h"
#include "ha/ci_state.h"
#include "ha/replay.h"

namespace floatlb::ha {

inline constexpr uint16_t kSyncPort = 22222;
inline constexpr size_t kSyncHeaderSize = 28;
inline constexpr size_t kSyncMaxPayload = 8u << 20;
inline constexpr size_t kSyncMaxBatch = 4096;

struct SyncHello {
  uint32_t node_id = 0;
  uint64_t epoch = 0;
  CiState role = CiState::kNotDefined;
  uint32_t abi_version = FLB_ABI_VERSION;
  uint32_t entry_size = sizeof(flb_ct_key) + sizeof(flb_ct_value);
};
struct SyncUpsert {
  std::vector<dataplane::CtEntry> entries;
};
struct SyncDelete {
  std::vector<flb_ct_key> keys;
};
struct SyncFullBegin {};
struct SyncFullEnd {
  uint32_t count = 0;
};
struct SyncPing {
  uint64_t seq = 0;
};
struct SyncPong {
  uint64_t seq = 0;
};

using SyncMessage =
    std::variant<SyncHello, SyncUpsert, SyncDelete, SyncFullBegin, SyncFullEnd, SyncPing, SyncPong>;

struct SyncStamp {
  Stamp stamp;
  bool reply = false;  // sent by the accepting side of the connection
};

struct SyncFrame {
  SyncMessage msg;
  SyncStamp stamp;
};

std::string encodeSync(const SyncMessage& msg, std::string_view key, const SyncStamp& stamp = {});

// Incremental decoder for a TCP byte stream. feed() appends bytes; next() returns the next
// complete frame, std::nullopt when more bytes are needed, or an error (the connection must
// then be dropped: a corrupt stream cannot be resynchronised). The replay check is the caller's
// (per peer, across connections: ReplayGuard).
class SyncDecoder {
 public:
  explicit SyncDecoder(std::string key) : key_(std::move(key)) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  Result<std::optional<SyncFrame>> next();
  [[nodiscard]] size_t buffered() const { return buf_.size(); }

 private:
  std::string key_;
  std::string buf_;
};

}  // namespace floatlb::ha
