// Small OpenSSL wrappers shared by SigV4 (src/cloud) and the HA wire protocols (src/ha).
#pragma once

#include <string>
#include <string_view>

namespace floatlb::crypto {

std::string hmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string sha256(std::string_view data);                            // raw 32 bytes
std::string toHex(std::string_view raw);                              // lower-case hex
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace floatlb::crypto
