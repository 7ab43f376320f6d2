// Heartbeat wire format (UDP 3784). Our own, versioned, fixed layout, big endian:
//   0  magic "FLHB"        4  version (2)       5  flags (bit0 yielding, bit1 authenticated)
//   6  role (CiState)      7  multiplier        8  node id (u32)     12 interval us (u32)
//   16 epoch (u64)         24 sequence (u64)    32 boot epoch (u64)
//   40 [HMAC-SHA256 over bytes 0..39, when a key is set]
// A receiver with a key rejects unauthenticated or wrongly signed packets; one without a key
// rejects authenticated ones (misconfiguration should be loud, not half-working). (boot,
// sequence) is the replay stamp (replay.h): version 1 had no boot epoch and is not accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "ha/machine.h"
#include "ha/replay.h"

namespace floatlb::ha {

struct Heartbeat {
  PeerView view;
  uint32_t interval_us = 100000;
  uint8_t multiplier = 3;
  uint64_t seq = 0;
  uint64_t boot = 0;
  [[nodiscard]] Stamp stamp() const { return Stamp{boot, seq}; }
};

inline constexpr size_t kHeartbeatSize = 40;
inline constexpr size_t kHeartbeatAuthSize = 72;
inline constexpr uint16_t kHeartbeatPort = 3784;

std::string encodeHeartbeat(const Heartbeat& hb, std::string_view key);
Result<Heartbeat> decodeHeartbeat(std::string_view bytes, std::string_view key);

}  // namespace floatlb::ha
