// Test doubles for the cloud module: scripted HTTP transport, clock-advancing sleeper, fixed RNG.
#pragma once

#include <deque>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cloud/aws/http.h"
#include "cloud/aws/retry.h"
#include "common/clock.h"

namespace floatlb::cloud::aws::testing {

inline std::string readGolden(const std::string& rel) {
  std::ifstream in(std::string(FLOATLB_CLOUD_GOLDEN_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Responds from a queue of canned results (or a handler) and records every request.
class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  void push(int status, std::string body) { queue_.push_back(HttpResponse{status, {}, std::move(body)}); }
  void pushError(Error e) { queue_.push_back(std::move(e)); }
  void setHandler(Handler h) { handler_ = std::move(h); }

  Result<HttpResponse> send(const HttpRequest& req) override {
    requests.push_back(req);
    if (handler_) return handler_(req);
    if (queue_.empty()) return makeError(ErrorCode::kInternal, "FakeTransport: no scripted response");
    Result<HttpResponse> r = queue_.front();
    queue_.pop_front();
    return r;
  }

  std::vector<HttpRequest> requests;

 private:
  std::deque<Result<HttpResponse>> queue_;
  Handler handler_;
};

// Records sleeps and advances a FakeClock instead of sleeping.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}
  void sleepFor(Duration d) override {
    sleeps.push_back(d);
    clock_.advance(d);
  }
  std::vector<Duration> sleeps;

 private:
  FakeClock& clock_;
};

class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(double v) : v_(v) {}
  double uniform01() override { return v_; }

 private:
  double v_;
};

inline std::string headerOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

}  // namespace floatlb::cloud::aws::testing
