// libFuzzer target for the heartbeat decoder (UDP 3784: anyone on the segment can send). The
// first byte picks unauthenticated or signed mode; a decoded packet, re-encoded, must decode to
// the same heartbeat (unknown flag bits are dropped on the way, so bytes may differ once).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ha/heartbeat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view key = (data[0] & 1) ? "fuzz-key" : "";
  std::string_view packet(reinterpret_cast<const char*>(data + 1), size - 1);
  auto hb = floatlb::ha::decodeHeartbeat(packet, key);
  if (!hb.ok()) return 0;
  const std::string once = floatlb::ha::encodeHeartbeat(*hb, key);
  auto again = floatlb::ha::decodeHeartbeat(once, key);
  if (!again.ok() || floatlb::ha::encodeHeartbeat(*again, key) != once) __builtin_trap();
  return 0;
}
