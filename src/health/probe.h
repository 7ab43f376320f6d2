// Endpoint health probes: what a probe is, what it returns, and the Prober interface behind which
// the real network probes (system_prober.h) and the test fake (fake_prober.h) live.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::health {

enum class ProbeType : uint8_t { kTcp, kUdp, kHttp, kPing, kNone };

const char* probeTypeName(ProbeType t);              // "tcp", "udp", "http", "ping", "none"
Result<ProbeType> parseProbeType(std::string_view);  // the names above, any case

// A probed endpoint: the key under which targets are shared (ref-counted) between rules.
struct TargetKey {
  Ip4 ip;
  ProbeType type = ProbeType::kTcp;
  uint16_t port = 0;  // 0 for ping

  auto operator<=>(const TargetKey&) const = default;
  // The REST name of the endpoint: "<ip>_<type>_<port>", e.g. "10.0.0.5_tcp_80".
  [[nodiscard]] std::string name() const;
};

struct ProbeSpec {
  TargetKey target;
  std::string request;  // http: request path (default "/"); unused otherwise
  Duration timeout = std::chrono::seconds(1);
};

struct ProbeResult {
  bool ok = false;
  Duration rtt{0};     // measured round trip (ping), or probe duration
  std::string detail;  // why it failed, for logs
};

// Runs one probe to completion, blocking at most about spec.timeout. Must be thread-safe: the
// runner calls it from several worker threads at once.
class Prober {
 public:
  virtual ~Prober() = default;
  virtual ProbeResult probe(const ProbeSpec& spec) = 0;
};

// Go's time.Duration.String() ("0s", "950ns", "1.5µs", "1.234ms", "2.5s", "1m30s"): the reference
// reports ping delays in this format.
std::string goDurationString(Duration d);

}  // namespace floatlb::health
