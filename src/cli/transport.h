// The CLI's only I/O dependency: send one HTTP request to the floatlb REST API and return the answer.
// A Transport failure (Error) means "no HTTP answer at all" (connection refused, timeout, ...); any
// HTTP status, including 4xx/5xx, is a successful HttpResponse.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace floatlb::cli {

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;    // absolute path including query, e.g. "/netlox/v1/config/loadbalancer/all"
  std::string body;    // JSON text for POST, empty otherwise

  bool operator==(const HttpRequest&) const = default;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

struct ServerAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 11111;
  std::chrono::seconds timeout{10};
  std::string protocol = "http";  // or "https"
  std::string cacert;             // https: PEM CA file to verify the server with (empty = system CAs)
  std::string token;              // bearer token (empty = none)
  [[nodiscard]] std::string url() const { return protocol + "://" + host + ":" + std::to_string(port); }
};

// cpp-httplib based transport (HTTP or HTTPS with certificate verification, optional bearer token). Connection failures carry the OS reason
// (e.g. "Connection refused") in the Error message.
std::unique_ptr<Transport> makeHttpTransport(const ServerAddress& server);

}  // namespace floatlb::cli
