// libFuzzer target for the connection-sync stream decoder (TCP 22222). The first byte picks
// unauthenticated or signed mode and how the stream is cut into feed() calls; every decoded
// frame, re-encoded, must decode to a frame that re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ha/sync_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string key = (data[0] & 1) ? "fuzz-key" : "";
  const size_t chunk = 1 + (data[0] >> 1);
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  floatlb::ha::SyncDecoder dec(key);
  for (size_t off = 0; off < stream.size(); off += chunk) {
    dec.feed(stream.substr(off, chunk));
    for (;;) {
      auto f = dec.next();
      if (!f.ok()) return 0;  // the connection would be dropped
      if (!f->has_value()) break;
      const std::string once = floatlb::ha::encodeSync((*f)->msg, key, (*f)->stamp);
      floatlb::ha::SyncDecoder check(key);
      check.feed(once);
      auto g = check.next();
      if (!g.ok() || !g->has_value() || floatlb::ha::encodeSync((*g)->msg, key, (*g)->stamp) != once)
        __builtin_trap();
    }
  }
  return 0;
}
