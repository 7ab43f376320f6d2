// Big-endian (network order) integer encoding for the wire formats (heartbeat, sync frames).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace floatlb {

// Appends the low `bytes` bytes of v to out, most significant first.
inline void putBe(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Reads `bytes` bytes at in[off] as a big-endian integer; the caller has checked the length.
inline uint64_t getBe(std::string_view in, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[off + static_cast<size_t>(i)]);
  return v;
}

}  // namespace floatlb
