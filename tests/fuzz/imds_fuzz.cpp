// libFuzzer target for the IMDS response parsers (credentials JSON, list output).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/aws/imds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    (void)floatlb::cloud::aws::parseImdsCredentialsJson(body);
  } else {
    for (const auto& entry : floatlb::cloud::aws::splitImdsList(body)) {
      if (entry.empty() || entry.find('\n') != std::string::npos) __builtin_trap();  // the contract
    }
  }
  return 0;
}
