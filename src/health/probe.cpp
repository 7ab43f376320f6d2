#include "health/probe.h"

#include <cctype>
#include <string>

namespace floatlb::health {

const char* probeTypeName(ProbeType t) {
  switch (t) {
    case ProbeType::kTcp:
      return "tcp";
    case ProbeType::kUdp:
      return "udp";
    case ProbeType::kHttp:
      return "http";
    case ProbeType::kPing:
      return "ping";
    case ProbeType::kNone:
      return "none";
  }
  return "none";
}

Result<ProbeType> parseProbeType(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (ProbeType t :
       {ProbeType::kTcp, ProbeType::kUdp, ProbeType::kHttp, ProbeType::kPing, ProbeType::kNone}) {
    if (lower == probeTypeName(t)) return t;
  }
  return makeError(ErrorCode::kInvalidArgument, "unsupported probe type \"" + std::string(text) + "\"");
}

std::string TargetKey::name() const {
  return ip.str() + "_" + probeTypeName(type) + "_" + std::to_string(port);
}

namespace {

// Formats v / 10^prec with `prec` decimals, trailing zeros (and a trailing '.') removed.
std::string fixed(uint64_t v, int prec) {
  uint64_t scale = 1;
  for (int i = 0; i < prec; ++i) scale *= 10;
  std::string out = std::to_string(v / scale);
  uint64_t frac = v % scale;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, static_cast<size_t>(prec) - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

}  // namespace

std::string goDurationString(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  auto u = static_cast<uint64_t>(ns < 0 ? -ns : ns);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fixed(u, 3) + "µs";
  if (u < 1000000000) return sign + fixed(u, 6) + "ms";
  uint64_t secs_ns = u % 60000000000ULL;
  uint64_t mins = u / 60000000000ULL;
  std::string out = fixed(secs_ns, 9) + "s";
  if (mins > 0) {
    out = std::to_string(mins % 60) + "m" + out;
    if (mins >= 60) out = std::to_string(mins / 60) + "h" + out;
  }
  return sign + out;
}

}  // namespace floatlb::health
