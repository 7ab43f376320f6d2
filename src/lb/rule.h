// The load-balancer rule model (pure). A rule is what `POST /netlox/v1/config/loadbalancer`
// creates: a service key (external IP, port, protocol, block) plus endpoints and options.
// JSON mapping lives in rule_json.h; validation in validateRule(); programming the datapath in
// rule_manager.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net.h"
#include "common/result.h"

namespace floatlb::lb {

enum class LbMode : uint8_t { kDefault = 0, kOneArm = 1, kFullNat = 2 };
enum class LbSel : uint8_t { kRr = 0, kHash = 1, kPriority = 2, kPersist = 3, kLeastConn = 4 };

// Names as loxicmd prints them ("default", "onearm", "fullnat"; "rr", "hash", ...).
const char* modeName(LbMode m);
const char* selName(LbSel s);
Result<LbMode> parseModeName(std::string_view name);  // CLI spellings
Result<LbSel> parseSelName(std::string_view name);

inline constexpr size_t kMaxEndpoints = 32;
inline constexpr size_t kMaxRules = 2048;
inline constexpr uint32_t kDefaultTcpTimeoutS = 240;
inline constexpr uint32_t kDefaultUdpTimeoutS = 20;
inline constexpr uint32_t kMaxTimeoutS = 86400;
inline constexpr uint32_t kDefaultPersistTimeoutS = 10800;
// floatlb probes every 10 s by default (the reference: 60 s, first probe after 15 s). See docs/lb.md.
inline constexpr uint32_t kDefaultProbeIntervalS = 10;
inline constexpr uint32_t kDefaultProbeRetries = 2;

struct ServiceKey {
  Ip4 external_ip;
  uint16_t port = 0;
  L4Proto proto = L4Proto::kTcp;
  uint32_t block = 0;

  auto operator<=>(const ServiceKey&) const = default;
  [[nodiscard]] std::string str() const;  // "13.208.10.20:55002/tcp" (+ " block 3")
};

struct Endpoint {
  Ip4 ip;
  uint16_t target_port = 0;
  uint8_t weight = 1;

  auto operator<=>(const Endpoint&) const = default;
};

struct ProbeSpec {
  std::string type;  // "" (default for the protocol), tcp, udp, http, https, ping, none
  uint16_t port = 0;
  std::string request;   // probereq (http path)
  std::string response;  // proberesp
  uint32_t interval_s = 0;  // probeTimeout in the reference's JSON; 0 = default
  uint32_t retries = 0;     // probeRetries; 0 = default

  auto operator<=>(const ProbeSpec&) const = default;
};

enum class RuleOper : uint8_t { kCreate = 0, kAttach = 1, kDetach = 2 };

struct RuleSpec {
  ServiceKey key;
  std::optional<Ip4> private_ip;  // datapath VIP (AWS EIP case); SNAT source in fullnat
  LbSel sel = LbSel::kRr;
  LbMode mode = LbMode::kDefault;
  bool bgp = false;
  bool monitor = false;
  ProbeSpec probe;
  uint32_t inactive_timeout_s = 0;  // 0 = default for the protocol
  bool managed = false;
  std::string name;
  RuleOper oper = RuleOper::kCreate;
  std::vector<Endpoint> endpoints;
  std::vector<Cidr> allowed_sources;

  // The HA instance owning the VIP: text after ':' in the name, else "llb-inst0".
  [[nodiscard]] std::string haInstance() const;
  // The address the datapath matches and, in fullnat, uses as SNAT source.
  [[nodiscard]] Ip4 datapathVip() const { return private_ip.value_or(key.external_ip); }
  [[nodiscard]] uint32_t effectiveTimeout() const;
  // Probing is active for monitor=true, one-arm and fullnat (as the reference) unless type "none".
  [[nodiscard]] bool probesActive() const;
  [[nodiscard]] std::string effectiveProbeType() const;  // resolves "" to the protocol default
  [[nodiscard]] uint16_t effectiveProbePort(const Endpoint& ep) const;
  [[nodiscard]] uint32_t effectiveProbeInterval() const;
  [[nodiscard]] uint32_t effectiveProbeRetries() const;

  bool operator==(const RuleSpec&) const = default;
};

inline constexpr const char* kDefaultHaInstance = "llb-inst0";

// Checks everything that can be checked without other rules: addresses, ports, counts, enums,
// probe consistency. Messages name the offending field and value.
Status validateRule(const RuleSpec& rule);

}  // namespace floatlb::lb
