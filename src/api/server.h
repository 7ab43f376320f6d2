// ApiServer: carries ApiRouter (src/api/router.h) over HTTP. The routes, authentication and the
// one ErrorCode -> HTTP status mapping live in the router; this is only the transport.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "common/result.h"

namespace floatlb::api {

class ApiServer {
 public:
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds host:port (port 0 = ephemeral) and serves on a background thread.
  Status start(const std::string& host, uint16_t port);
  void stop();
  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] const ApiRouter& router() const { return router_; }

 private:
  struct Impl;
  ApiRouter router_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::api
