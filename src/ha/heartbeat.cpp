#include "ha/heartbeat.h"

#include "common/bytes.h"
#include "common/crypto.h"

namespace floatlb::ha {

namespace {
constexpr char kMagic[4] = {'F', 'L', 'H', 'B'};
constexpr uint8_t kVersion = 2;
constexpr uint8_t kFlagYielding = 0x1;
constexpr uint8_t kFlagAuth = 0x2;

Error bad(const std::string& m) { return makeError(ErrorCode::kInvalidArgument, "heartbeat: " + m); }
}  // namespace

std::string encodeHeartbeat(const Heartbeat& hb, std::string_view key) {
  std::string out(kMagic, 4);
  out += static_cast<char>(kVersion);
  uint8_t flags = (hb.view.yielding ? kFlagYielding : 0) | (key.empty() ? 0 : kFlagAuth);
  out += static_cast<char>(flags);
  out += static_cast<char>(static_cast<uint8_t>(hb.view.role));
  out += static_cast<char>(hb.multiplier);
  putBe(out, hb.view.node_id, 4);
  putBe(out, hb.interval_us, 4);
  putBe(out, hb.view.epoch, 8);
  putBe(out, hb.seq, 8);
  putBe(out, hb.boot, 8);
  if (!key.empty()) out += crypto::hmacSha256(key, out);
  return out;
}

Result<Heartbeat> decodeHeartbeat(std::string_view b, std::string_view key) {
  if (b.size() < kHeartbeatSize) return bad("short packet (" + std::to_string(b.size()) + " bytes)");
  if (b.substr(0, 4) != std::string_view(kMagic, 4)) return bad("bad magic");
  if (static_cast<uint8_t>(b[4]) != kVersion)
    return bad("unsupported version " + std::to_string(static_cast<uint8_t>(b[4])));
  const uint8_t flags = static_cast<uint8_t>(b[5]);
  const bool authed = flags & kFlagAuth;
  if (authed != !key.empty()) {
    return makeError(ErrorCode::kPermissionDenied,
                     authed ? "heartbeat: peer signs heartbeats but no key is configured here"
                            : "heartbeat: unauthenticated packet while a key is configured");
  }
  const size_t want = authed ? kHeartbeatAuthSize : kHeartbeatSize;
  if (b.size() != want)
    return bad("wrong length " + std::to_string(b.size()) + ", want " + std::to_string(want));
  if (authed && !crypto::constantTimeEqual(crypto::hmacSha256(key, b.substr(0, kHeartbeatSize)),
                                           b.substr(kHeartbeatSize))) {
    return makeError(ErrorCode::kPermissionDenied, "heartbeat: bad signature");
  }
  const uint8_t role = static_cast<uint8_t>(b[6]);
  if (role < 1 || role > 5) return bad("bad role " + std::to_string(role));
  Heartbeat hb;
  hb.view.yielding = flags & kFlagYielding;
  hb.view.role = static_cast<CiState>(role);
  hb.multiplier = static_cast<uint8_t>(b[7]);
  hb.view.node_id = static_cast<uint32_t>(getBe(b, 8, 4));
  hb.interval_us = static_cast<uint32_t>(getBe(b, 12, 4));
  hb.view.epoch = getBe(b, 16, 8);
  hb.seq = getBe(b, 24, 8);
  hb.boot = getBe(b, 32, 8);
  return hb;
}

}  // namespace floatlb::ha
