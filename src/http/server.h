// floatlb::http::Server: an event-driven HTTP/1.1 server (keep-alive, pipelining, optional TLS)
// built for hostile networks, over libmicrohttpd (its headers stay in server.cpp). A few epoll
// threads serve every connection, so idle or trickling clients cost a file descriptor and a
// bounded buffer, never a thread. Per connection: a whole request (headers and body) must arrive
// within `request_deadline` of the connection becoming ready for it, or the connection is shut
// down; no traffic for `idle_timeout` closes it. Per source address: at most `per_source_limit`
// connections. Memory: `connection_memory` per connection for the request line and headers,
// bodies up to `max_body` each and `max_body_total` across all connections in flight.
// Used by the REST API (src/api/server.cpp); meant for kubesim and the operator's /healthz too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace floatlb::http {

struct Request {
  std::string method;
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // decoded; the last value of a repeated key wins
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string peer;  // source address

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called on a server thread for every complete request; must not throw.
using Handler = std::function<Response(const Request&)>;
// Builds the body of a response the server itself produces (413, 503, 400, ...).
using ErrorBody = std::function<std::string(int status, const std::string& message)>;

struct Options {
  std::string host = "0.0.0.0";
  uint16_t port = 0;         // 0 = ephemeral
  std::string tls_cert_pem;  // both set = HTTPS
  std::string tls_key_pem;
  unsigned threads = 2;
  unsigned max_connections = 4096;
  unsigned per_source_limit = 256;
  std::chrono::milliseconds request_deadline{10'000};
  std::chrono::seconds idle_timeout{30};
  size_t connection_memory = 32 * 1024;
  size_t max_body = 1 << 20;
  size_t max_body_total = 64u << 20;
};

struct Stats {
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
  uint64_t deadline_closed = 0;  // shut down for missing the request deadline
  uint64_t requests = 0;
  uint64_t rejected_body = 0;         // 413 / 503 for body size or the global body budget
  uint64_t body_bytes_in_flight = 0;  // taken from max_body_total by requests being received
};

class Server {
 public:
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  static Result<std::unique_ptr<Server>> start(Options options, Handler handler, ErrorBody error_body);

  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] bool tls() const;
  [[nodiscard]] Stats stats() const;
  // Serves new connections with a new certificate/key on the same socket (open connections end).
  Status reloadTls(const std::string& cert_pem, const std::string& key_pem);
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::http
