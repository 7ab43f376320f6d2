#include "api/server.h"

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "http/server.h"

namespace floatlb::api {

struct ApiServer::Impl {
  ListenConfig config;
  std::unique_ptr<http::Server> plain;
  std::unique_ptr<http::Server> tls;
};

namespace {

Result<std::string> readPem(const std::string& path, const char* what) {
  std::ifstream in(path);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || ss.str().empty())
    return makeError(ErrorCode::kInvalidArgument, std::string(what) + " " + path + ": cannot read the file");
  return ss.str();
}

http::Response serve(const ApiRouter& router, const http::Request& req) {
  ApiRequest r;
  r.method = req.method;
  r.path = req.path;
  r.query = req.query;
  r.body = req.body;
  r.authorization = req.header("authorization");
  ApiResponse out = router.handle(r);
  http::Response res;
  res.status = out.status;
  res.content_type = out.content_type;
  res.body = std::move(out.body);
  if (out.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"floatlb\"");
  return res;
}

Result<std::unique_ptr<http::Server>> listen(const ApiRouter& router, const std::string& host, uint16_t port,
                                             std::string cert, std::string key) {
  http::Options opt;
  // A change's handler blocks until the change is durable (one fdatasync, shared by the changes
  // in flight together): 8 threads let 8 clients' changes share a sync while GETs still run.
  opt.threads = 8;
  opt.host = host;
  opt.port = port;
  opt.tls_cert_pem = std::move(cert);
  opt.tls_key_pem = std::move(key);
  return http::Server::start(
      opt, [&router](const http::Request& req) { return serve(router, req); },
      [](int status, const std::string& message) { return encodeError(status, message); });
}

}  // namespace

ApiServer::ApiServer(ApiDeps deps) : router_(std::move(deps)), impl_(std::make_unique<Impl>()) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start(const ListenConfig& config) {
  impl_->config = config;
  const bool tls = !config.tls_cert.empty();
  if (tls) {
    FLB_ASSIGN_OR_RETURN(auto cert, readPem(config.tls_cert, "--tls-cert"));
    FLB_ASSIGN_OR_RETURN(auto key, readPem(config.tls_key, "--tls-key"));
    const uint16_t port = config.tls_port != 0 ? config.tls_port : config.port;
    FLB_ASSIGN_OR_RETURN(impl_->tls, listen(router_, config.host, port, cert, key));
    FLB_INFO("api", "REST API (HTTPS) listening on {}:{}", config.host, impl_->tls->port());
  }
  if (!tls || config.tls_port != 0) {
    FLB_ASSIGN_OR_RETURN(impl_->plain, listen(router_, config.host, config.port, "", ""));
    FLB_INFO("api", "REST API listening on {}:{}", config.host, impl_->plain->port());
  }
  return okStatus();
}

Status ApiServer::reloadTls() {
  if (!impl_->tls) return okStatus();
  FLB_ASSIGN_OR_RETURN(auto cert, readPem(impl_->config.tls_cert, "--tls-cert"));
  FLB_ASSIGN_OR_RETURN(auto key, readPem(impl_->config.tls_key, "--tls-key"));
  FLB_TRY(impl_->tls->reloadTls(cert, key));
  FLB_INFO("api", "TLS certificate re-read from {}", impl_->config.tls_cert);
  return okStatus();
}

void ApiServer::stop() {
  if (!impl_) return;
  if (impl_->plain) impl_->plain->stop();
  if (impl_->tls) impl_->tls->stop();
}

uint16_t ApiServer::port() const {
  if (impl_->plain) return impl_->plain->port();
  return impl_->tls ? impl_->tls->port() : 0;
}

uint16_t ApiServer::tlsPort() const { return impl_->tls ? impl_->tls->port() : 0; }

}  // namespace floatlb::api
