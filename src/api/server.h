// ApiServer: carries ApiRouter (src/api/router.h) over floatlb::http::Server (src/http, event
// driven, slow-client safe). The routes, authentication and the one ErrorCode -> HTTP status
// mapping live in the router; this is only the transport: plain HTTP, HTTPS, or both (HTTP on
// `port`, HTTPS on `tls_port`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "common/result.h"

namespace floatlb::api {

struct ListenConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 11111;   // 0 = ephemeral
  std::string tls_cert;    // PEM file paths; both set = HTTPS
  std::string tls_key;
  uint16_t tls_port = 0;   // with TLS: 0 = HTTPS on `port` (no plain HTTP), else HTTPS here and HTTP on `port`
};

class ApiServer {
 public:
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Status start(const ListenConfig& config);
  Status start(const std::string& host, uint16_t port) { return start(ListenConfig{host, port, "", "", 0}); }
  // Re-reads the certificate and key files (SIGHUP).
  Status reloadTls();
  void stop();
  [[nodiscard]] uint16_t port() const;     // the plain-HTTP port, or the HTTPS one without plain HTTP
  [[nodiscard]] uint16_t tlsPort() const;  // 0 without TLS
  [[nodiscard]] const ApiRouter& router() const { return router_; }

 private:
  struct Impl;
  ApiRouter router_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::api
