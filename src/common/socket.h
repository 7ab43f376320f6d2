// The one "create an IPv4 socket, set SO_REUSEADDR, bind or close" helper (heartbeats, sync).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/net.h"
#include "common/result.h"

namespace floatlb {

// An IPv4 socket address (network order) for bind/connect/sendto.
inline sockaddr_in sockAddr(Ip4 ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = ip.networkOrder();
  return sa;
}

// Returns a socket of `type` (SOCK_DGRAM/SOCK_STREAM, may be or-ed with SOCK_NONBLOCK; CLOEXEC
// is always added) bound to local:port with SO_REUSEADDR, listening when `listen_backlog` > 0.
// On failure nothing is left open and the error names `what`, the address and the errno.
inline Result<int> bindSocket(int type, Ip4 local, uint16_t port, const std::string& what,
                              int listen_backlog = 0) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, what + " socket: " + std::strerror(errno));
  const int one = 1;
  const sockaddr_in sa = sockAddr(local, port);
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
      (listen_backlog > 0 && ::listen(fd, listen_backlog) != 0)) {
    const int err = errno;
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, "binding " + what + " socket " + local.str() + ":" +
                                                  std::to_string(port) + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace floatlb
