// HTTP behind a small interface so the EC2 and IMDS clients are unit-tested with a fake.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: scheme://host[:port]/path[?query]
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(10);  // whole-call timeout (connect + transfer)
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;

  // Case-insensitive header lookup; empty if absent.
  [[nodiscard]] std::string header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a success here; an Error means no response (kUnavailable: connect/DNS/reset,
  // kTimeout: the per-call timeout expired).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// libcurl implementation (HTTPS with system CA store, no proxies from the environment).
std::unique_ptr<HttpTransport> makeCurlTransport();

struct ParsedUrl {
  std::string scheme;      // "http" | "https"
  std::string host;        // without port
  int port = 0;            // explicit or scheme default
  std::string hostHeader;  // "host" or "host:port" when the port is not the scheme default
  std::string path;        // "/" if none
};
Result<ParsedUrl> parseUrl(std::string_view url);

}  // namespace floatlb::cloud::aws
