// OS side of a takeover: find the hot-plugged ENI's interface by MAC, bring it up, give it the ENI's
// address, and policy-route traffic sourced from the VIPs (and the ENI address) out of it via the
// subnet's VPC router (<cidr>.1), so replies leave through the ENI that owns the VIP.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::cloud {

struct EniOsConfig {
  std::string mac;           // the ENI's MAC (from EC2)
  Ip4 address;               // the ENI's primary private IP
  Cidr subnet;               // --cloudcidrblock (address/prefix; gateway = subnet.at(1))
  std::vector<Ip4> sources;  // VIPs routed out of the interface
};

class InterfaceConfigurator {
 public:
  virtual ~InterfaceConfigurator() = default;
  // Polls (bounded by `timeout`) until a link with `mac` exists; returns its name.
  virtual Result<std::string> waitForLink(const std::string& mac, Duration timeout) = 0;
  // Idempotent: link up, address, table routes (connected + default via gateway), source rules.
  virtual Status configure(const std::string& ifname, const EniOsConfig& cfg) = 0;
  // Removes the source rules and the address (link may already be gone). Idempotent.
  virtual Status release(const std::string& ifname, const EniOsConfig& cfg) = 0;
};

// rtnetlink implementation. `table` is the policy routing table used for the VIP sources,
// `rule_priority` the priority of the `from <ip> lookup <table>` rules.
std::unique_ptr<InterfaceConfigurator> makeNetlinkConfigurator(uint32_t table = 248,
                                                               uint32_t rule_priority = 248);

}  // namespace floatlb::cloud
