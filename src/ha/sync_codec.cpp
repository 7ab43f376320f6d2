#include "ha/sync_codec.h"

#include <cstring>

#include "common/bytes.h"
#include "common/crypto.h"

namespace floatlb::ha {

namespace {

constexpr char kMagic[4] = {'F', 'L', 'S', 'Y'};
constexpr uint8_t kVersion = 2;
constexpr uint16_t kFlagAuth = 1;
constexpr uint16_t kFlagReply = 2;
enum Type : uint8_t {
  kHello = 1,
  kUpsert = 2,
  kDelete = 3,
  kFullBegin = 4,
  kFullEnd = 5,
  kPing = 6,
  kPong = 7
};

template <class T>
void putRaw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T getRaw(std::string_view in, size_t off) {
  T v;
  std::memcpy(&v, in.data() + off, sizeof v);
  return v;
}
Error bad(const std::string& m) { return makeError(ErrorCode::kInvalidArgument, "sync frame: " + m); }

struct Encoder {
  std::string payload;
  uint8_t type = 0;
  void operator()(const SyncHello& h) {
    type = kHello;
    putBe(payload, h.node_id, 4);
    putBe(payload, h.epoch, 8);
    payload += static_cast<char>(static_cast<uint8_t>(h.role));
    putBe(payload, h.abi_version, 4);
    putBe(payload, h.entry_size, 4);
  }
  void operator()(const SyncUpsert& u) {
    type = kUpsert;
    putBe(payload, u.entries.size(), 4);
    for (const auto& e : u.entries) {
      putRaw(payload, e.key);
      putRaw(payload, e.value);
    }
  }
  void operator()(const SyncDelete& d) {
    type = kDelete;
    putBe(payload, d.keys.size(), 4);
    for (const auto& k : d.keys) putRaw(payload, k);
  }
  void operator()(const SyncFullBegin&) { type = kFullBegin; }
  void operator()(const SyncFullEnd& e) {
    type = kFullEnd;
    putBe(payload, e.count, 4);
  }
  void operator()(const SyncPing& p) {
    type = kPing;
    putBe(payload, p.seq, 8);
  }
  void operator()(const SyncPong& p) {
    type = kPong;
    putBe(payload, p.seq, 8);
  }
};

Result<SyncMessage> decodePayload(uint8_t type, std::string_view p) {
  auto need = [&](size_t n) -> Status {
    if (p.size() != n)
      return bad("type " + std::to_string(type) + ": payload " + std::to_string(p.size()) + " bytes, want " +
                 std::to_string(n));
    return okStatus();
  };
  switch (type) {
    case kHello: {
      FLB_TRY(need(21));
      SyncHello h;
      h.node_id = static_cast<uint32_t>(getBe(p, 0, 4));
      h.epoch = getBe(p, 4, 8);
      uint8_t role = static_cast<uint8_t>(p[12]);
      if (role < 1 || role > 5) return bad("bad role in HELLO");
      h.role = static_cast<CiState>(role);
      h.abi_version = static_cast<uint32_t>(getBe(p, 13, 4));
      h.entry_size = static_cast<uint32_t>(getBe(p, 17, 4));
      return SyncMessage{h};
    }
    case kUpsert: {
      if (p.size() < 4) return bad("short CT_UPSERT");
      const size_t n = getBe(p, 0, 4);
      constexpr size_t kEntry = sizeof(flb_ct_key) + sizeof(flb_ct_value);
      if (n > kSyncMaxBatch) return bad("CT_UPSERT batch of " + std::to_string(n) + " entries");
      FLB_TRY(need(4 + n * kEntry));
      SyncUpsert u;
      u.entries.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        const size_t off = 4 + i * kEntry;
        u.entries.push_back({getRaw<flb_ct_key>(p, off), getRaw<flb_ct_value>(p, off + sizeof(flb_ct_key))});
      }
      return SyncMessage{std::move(u)};
    }
    case kDelete: {
      if (p.size() < 4) return bad("short CT_DELETE");
      const size_t n = getBe(p, 0, 4);
      if (n > kSyncMaxBatch) return bad("CT_DELETE batch of " + std::to_string(n) + " keys");
      FLB_TRY(need(4 + n * sizeof(flb_ct_key)));
      SyncDelete d;
      for (size_t i = 0; i < n; ++i) d.keys.push_back(getRaw<flb_ct_key>(p, 4 + i * sizeof(flb_ct_key)));
      return SyncMessage{std::move(d)};
    }
    case kFullBegin:
      FLB_TRY(need(0));
      return SyncMessage{SyncFullBegin{}};
    case kFullEnd:
      FLB_TRY(need(4));
      return SyncMessage{SyncFullEnd{static_cast<uint32_t>(getBe(p, 0, 4))}};
    case kPing:
      FLB_TRY(need(8));
      return SyncMessage{SyncPing{getBe(p, 0, 8)}};
    case kPong:
      FLB_TRY(need(8));
      return SyncMessage{SyncPong{getBe(p, 0, 8)}};
    default:
      return bad("unknown type " + std::to_string(type));
  }
}

}  // namespace

std::string encodeSync(const SyncMessage& msg, std::string_view key, const SyncStamp& stamp) {
  Encoder enc;
  std::visit(enc, msg);
  std::string out(kMagic, 4);
  out += static_cast<char>(kVersion);
  out += static_cast<char>(enc.type);
  putBe(out, (key.empty() ? 0 : kFlagAuth) | (stamp.reply ? kFlagReply : 0), 2);
  putBe(out, enc.payload.size(), 4);
  putBe(out, stamp.stamp.boot, 8);
  putBe(out, stamp.stamp.seq, 8);
  out += enc.payload;
  if (!key.empty()) out += crypto::hmacSha256(key, out);
  return out;
}

Result<std::optional<SyncFrame>> SyncDecoder::next() {
  if (buf_.size() < kSyncHeaderSize) return std::optional<SyncFrame>{};
  std::string_view b(buf_);
  if (b.substr(0, 4) != std::string_view(kMagic, 4)) return bad("bad magic");
  if (static_cast<uint8_t>(b[4]) != kVersion)
    return bad("unsupported version " + std::to_string(static_cast<uint8_t>(b[4])));
  const uint8_t type = static_cast<uint8_t>(b[5]);
  const uint64_t flags = getBe(b, 6, 2);
  const bool authed = flags & kFlagAuth;
  if (authed != !key_.empty()) {
    return makeError(ErrorCode::kPermissionDenied,
                     authed ? "sync: peer signs frames but no key is configured here"
                            : "sync: unsigned frame while a key is configured");
  }
  const size_t len = getBe(b, 8, 4);
  if (len > kSyncMaxPayload) return bad("payload of " + std::to_string(len) + " bytes is too large");
  const size_t total = kSyncHeaderSize + len + (authed ? 32 : 0);
  if (buf_.size() < total) return std::optional<SyncFrame>{};
  if (authed) {
    auto mac = crypto::hmacSha256(key_, b.substr(0, kSyncHeaderSize + len));
    if (!crypto::constantTimeEqual(mac, b.substr(kSyncHeaderSize + len, 32))) {
      return makeError(ErrorCode::kPermissionDenied, "sync: bad frame signature");
    }
  }
  auto msg = decodePayload(type, b.substr(kSyncHeaderSize, len));
  if (!msg) return msg.error();
  SyncStamp stamp{Stamp{getBe(b, 12, 8), getBe(b, 20, 8)}, (flags & kFlagReply) != 0};
  buf_.erase(0, total);
  return std::optional<SyncFrame>(SyncFrame{std::move(*msg), stamp});
}

}  // namespace floatlb::ha
