#include "common/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace floatlb::netlink {

namespace {

Error sysError(const std::string& what, int err) {
  return makeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

}  // namespace

Request::Request(uint16_t type, uint16_t flags) : hdr_(mnl_nlmsg_put_header(buf_.data())) {
  hdr_->nlmsg_type = type;
  hdr_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
}

void Request::body(const void* data, size_t len) {
  if (hdr_->nlmsg_len + MNL_ALIGN(len) > buf_.size()) {
    overflow_ = true;
    return;
  }
  std::memcpy(mnl_nlmsg_put_extra_header(hdr_, len), data, len);
}

void Request::attr(uint16_t type, const void* data, size_t len) {
  if (!mnl_attr_put_check(hdr_, buf_.size(), type, len, data)) overflow_ = true;
}

void Request::attrIp(uint16_t type, Ip4 ip) {
  const uint32_t be = ip.networkOrder();
  attr(type, &be, sizeof be);
}

Status Request::send(const std::string& what, std::initializer_list<int> ok_errnos) {
  if (overflow_) return makeError(ErrorCode::kInternal, what + ": netlink request too large");
  std::unique_ptr<mnl_socket, SocketCloser> nl(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!nl) return sysError(what + ": netlink socket", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return sysError(what + ": netlink bind", errno);
  const unsigned seq = 1;
  hdr_->nlmsg_seq = seq;
  if (mnl_socket_sendto(nl.get(), hdr_, hdr_->nlmsg_len) < 0) return sysError(what + ": netlink send", errno);
  const unsigned portid = mnl_socket_get_portid(nl.get());
  std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
  // The kernel answers a request with NLM_F_ACK by exactly one NLMSG_ERROR (0 = success), which
  // mnl_cb_run turns into MNL_CB_STOP or -1 with errno set.
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = mnl_socket_recvfrom(nl.get(), reply.data(), reply.size());
    if (n < 0) return sysError(what + ": netlink recv", errno);
    const int rc = mnl_cb_run(reply.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr);
    if (rc == MNL_CB_STOP) return okStatus();
    if (rc < 0) {
      const int err = errno;
      if (std::find(ok_errnos.begin(), ok_errnos.end(), err) != ok_errnos.end()) return okStatus();
      return sysError(what, err);
    }
  }
  return makeError(ErrorCode::kIo, what + ": no netlink ack");
}

}  // namespace floatlb::netlink
