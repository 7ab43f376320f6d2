// The one rtnetlink client of floatlb (over libmnl): builds a request (header, fixed body,
// attributes), sends it on a fresh NETLINK_ROUTE socket and waits for the kernel's ack.
// Used by the VIP manager (ha/vip.cpp) and the ENI configurator (cloud/hook/os_config.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "common/net.h"
#include "common/result.h"

struct nlmsghdr;

namespace floatlb::netlink {

class Request {
 public:
  // `type` is RTM_*; NLM_F_REQUEST | NLM_F_ACK are always set, `flags` adds e.g. NLM_F_CREATE.
  Request(uint16_t type, uint16_t flags);
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  // The fixed family header that follows nlmsghdr (ifaddrmsg, ifinfomsg, rtmsg, fib_rule_hdr).
  template <class T>
  void body(const T& v) {
    body(&v, sizeof v);
  }
  void body(const void* data, size_t len);
  void attr(uint16_t type, const void* data, size_t len);
  void attrU32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
  void attrIp(uint16_t type, Ip4 ip);  // 4 bytes, network order

  // Sends and waits for the ack. An error whose errno is in `ok_errnos` (EEXIST for an idempotent
  // add, EADDRNOTAVAIL/ENOENT for an idempotent delete) counts as success; others become kIo
  // errors prefixed with `what`.
  Status send(const std::string& what, std::initializer_list<int> ok_errnos = {});

 private:
  alignas(4) std::array<char, 512> buf_{};
  nlmsghdr* hdr_;
  bool overflow_ = false;
};

}  // namespace floatlb::netlink
