#include "api/server.h"

#include <httplib.h>

#include <thread>

#include "common/log.h"

namespace floatlb::api {

struct ApiServer::Impl {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
};

namespace {

void serve(const ApiRouter& router, const httplib::Request& req, httplib::Response& res) {
  ApiRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query[k] = v;
  r.body = req.body;
  r.authorization = req.get_header_value("Authorization");
  ApiResponse out = router.handle(r);
  res.status = out.status;
  res.set_content(out.body, out.content_type.c_str());
}

}  // namespace

ApiServer::ApiServer(ApiDeps deps) : router_(std::move(deps)), impl_(std::make_unique<Impl>()) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { serve(router_, req, res); };
  const std::string any = R"(/.*)";
  impl_->srv.Get(any, handler);
  impl_->srv.Post(any, handler);
  impl_->srv.Delete(any, handler);
  impl_->srv.Put(any, handler);
  impl_->srv.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(encodeError(res.status, "request failed"), "application/json");
  });
  impl_->srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(encodeError(500, "internal error while handling the request"), "application/json");
  });
  impl_->srv.set_payload_max_length(1 << 20);
}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start(const std::string& host, uint16_t port) {
  int bound =
      port == 0 ? impl_->srv.bind_to_any_port(host) : (impl_->srv.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                                  " (address in use or not available)");
  }
  impl_->port = bound;
  impl_->thread = std::thread([this] { impl_->srv.listen_after_bind(); });
  FLB_INFO("api", "REST API listening on {}:{}", host, bound);
  return okStatus();
}

void ApiServer::stop() {
  if (!impl_) return;
  impl_->srv.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t ApiServer::port() const { return static_cast<uint16_t>(impl_->port); }

}  // namespace floatlb::api
