// A fake ha::AddressOps: records the host's loopback addresses and every call, and fails on
// demand, so VipManager is tested without netlink or raw sockets.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ha/vip.h"

namespace floatlb::testing {

class FakeAddressOps final : public ha::AddressOps {
 public:
  Status addLoopbackAddress(Ip4 ip) override {
    calls.push_back("add " + ip.str());
    if (fail_add.count(ip)) return makeError(ErrorCode::kIo, "injected add failure");
    on_lo.insert(ip);
    return okStatus();
  }
  Status delLoopbackAddress(Ip4 ip) override {
    calls.push_back("del " + ip.str());
    if (fail_del.count(ip)) return makeError(ErrorCode::kIo, "injected del failure");
    on_lo.erase(ip);
    return okStatus();
  }
  Status announce(Ip4 ip) override {
    calls.push_back("announce " + ip.str());
    return okStatus();
  }
  // Calls since the last take, then forgets them.
  std::vector<std::string> take() { return std::exchange(calls, {}); }

  std::set<Ip4> on_lo;  // what the host's lo holds
  std::set<Ip4> fail_add, fail_del;
  std::vector<std::string> calls;
};

}  // namespace floatlb::testing
