#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/transport.h"

namespace floatlb::cli {
namespace {

// httplib only reports "Connection" for any connect failure; redo a bounded TCP connect to learn
// the operating system's reason (refused, unreachable, timed out, unknown host).
std::string connectFailureReason(const ServerAddress& server) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(server.host.c_str(), std::to_string(server.port).c_str(), &hints, &res);
  if (rc != 0) return std::string("cannot resolve host: ") + gai_strerror(rc);
  std::string reason = "connection failed";
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    reason = std::strerror(errno);
  } else {
    if (connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
      reason = "connection closed by the server";
    } else if (errno != EINPROGRESS) {
      reason = std::strerror(errno);
    } else {
      pollfd pfd{fd, POLLOUT, 0};
      int timeout_ms = static_cast<int>(std::chrono::milliseconds(server.timeout).count());
      if (poll(&pfd, 1, timeout_ms) <= 0) {
        reason = "connection timed out";
      } else {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        reason = err != 0 ? std::strerror(err) : "connection closed by the server";
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return reason;
}

class HttplibTransport final : public Transport {
 public:
  explicit HttplibTransport(ServerAddress server)
      : server_(std::move(server)), client_(server_.url()) {
    if (server_.protocol == "https") {
      client_.enable_server_certificate_verification(true);
      if (!server_.cacert.empty()) client_.set_ca_cert_path(server_.cacert.c_str());
    }
    if (!server_.token.empty()) client_.set_bearer_token_auth(server_.token.c_str());
    auto secs = static_cast<time_t>(server_.timeout.count());
    client_.set_connection_timeout(secs, 0);
    client_.set_read_timeout(secs, 0);
    client_.set_write_timeout(secs, 0);
  }

  Result<HttpResponse> send(const HttpRequest& req) override {
    httplib::Result res{nullptr, httplib::Error::Unknown};
    if (req.method == "GET") {
      res = client_.Get(req.path);
    } else if (req.method == "POST") {
      res = client_.Post(req.path, req.body, "application/json");
    } else if (req.method == "DELETE") {
      res = client_.Delete(req.path);
    } else {
      return makeError(ErrorCode::kInvalidArgument, "unsupported HTTP method " + req.method);
    }
    if (!res) {
      httplib::Error e = res.error();
      std::string reason;
      if (e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout) {
        reason = connectFailureReason(server_);
      } else if (e == httplib::Error::Read) {
        reason = "no answer within " + std::to_string(server_.timeout.count()) + " s (read failed)";
      } else if (e == httplib::Error::SSLConnection || e == httplib::Error::SSLServerVerification) {
        reason = "TLS handshake or certificate verification failed (--cacert?)";
      } else if (e == httplib::Error::Write) {
        reason = "failed to send the request";
      } else {
        reason = "HTTP client error " + httplib::to_string(e);
      }
      return makeError(ErrorCode::kUnavailable, reason);
    }
    return HttpResponse{res->status, res->body};
  }

 private:
  ServerAddress server_;
  httplib::Client client_;
};

}  // namespace

std::unique_ptr<Transport> makeHttpTransport(const ServerAddress& server) {
  return std::make_unique<HttplibTransport>(server);
}

}  // namespace floatlb::cli
