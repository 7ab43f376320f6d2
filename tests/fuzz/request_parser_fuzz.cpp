// libFuzzer target for every REST request parser and the rule-file parser. The first byte picks
// the parser; the rest is the body. Any crash, sanitizer report or exception escaping is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto r = floatlb::api::parseLoadBalancerEntry(body);
      if (r.ok()) (void)floatlb::lb::validateRule(*r);
      break;
    }
    case 1:
      (void)floatlb::api::parseCiState(body);
      break;
    case 2: {
      auto r = floatlb::api::parseRuleFile(body);
      if (r.ok()) (void)floatlb::api::encodeRuleFile(*r);
      break;
    }
    case 3:
      (void)floatlb::api::parseEndpointEntry(body);
      break;
  }
  return 0;
}
