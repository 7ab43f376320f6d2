// floatlb::http::Server on 127.0.0.1 (ephemeral port; nothing leaves loopback). Every read is
// bounded by poll() timeouts, so a broken server fails the test instead of hanging it.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace floatlb::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw loopback client: exact bytes out, exact bytes in.
class RawClient {
 public:
  explicit RawClient(uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &src.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Reads one whole response (headers + Content-Length body); empty on timeout or close.
  std::string response(std::chrono::milliseconds timeout = 5s) {
    const auto end = Clock::now() + timeout;
    for (;;) {
      if (auto r = take(); !r.empty()) return r;
      if (!fill(end)) return {};
    }
  }
  // True when the server closed (or reset) the connection within `timeout`.
  bool closedWithin(std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (fill(end)) {
    }
    return eof_;
  }

 private:
  std::string take() {
    const size_t h = buf_.find("\r\n\r\n");
    if (h == std::string::npos) return {};
    size_t len = 0;
    const size_t cl = buf_.find("Content-Length: ");
    if (cl != std::string::npos && cl < h) len = std::stoul(buf_.substr(cl + 16));
    if (buf_.size() < h + 4 + len) return {};
    std::string r = buf_.substr(0, h + 4 + len);
    buf_.erase(0, h + 4 + len);
    return r;
  }
  bool fill(Clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0 || eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char b[4096];
    const ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

int statusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}
std::string bodyOf(const std::string& response) {
  const size_t h = response.find("\r\n\r\n");
  return h == std::string::npos ? std::string() : response.substr(h + 4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(Options o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    auto s = Server::start(
        o,
        [this](const Request& r) {
          ++handled;
          last = r;
          Response res;
          res.status = r.path == "/teapot" ? 418 : 200;
          res.body = "{\"path\":\"" + r.path + "\",\"body\":" + std::to_string(r.body.size()) + "}";
          return res;
        },
        [](int status, const std::string& message) {
          return "{\"code\":" + std::to_string(status) + ",\"message\":\"" + message + "\"}";
        });
    ASSERT_TRUE(s.ok()) << s.error().message;
    server = std::move(*s);
  }
  std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
  }
  std::unique_ptr<Server> server;
  std::atomic<int> handled{0};
  Request last;
};

TEST_F(HttpServerTest, RequestIsDecodedForTheHandler) {
  start();
  RawClient c(server->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send("POST /a%20b?x=1&y=two%2F&x=3 HTTP/1.1\r\nHost: x\r\nX-Token: Abc\r\n"
             "Content-Length: 5\r\n\r\nhello"));
  auto r = c.response();
  EXPECT_EQ(statusOf(r), 200) << r;
  EXPECT_EQ(last.method, "POST");
  EXPECT_EQ(last.path, "/a b");
  EXPECT_EQ(last.query.at("y"), "two/");
  EXPECT_EQ(last.header("x-token"), "Abc");  // names lower-cased, values as sent
  EXPECT_EQ(last.body, "hello");
  EXPECT_EQ(last.peer, "127.0.0.1");
  EXPECT_NE(r.find("Content-Type: application/json"), std::string::npos);
}

TEST_F(HttpServerTest, HandlerStatusPassesThroughUnchanged) {
  start();
  RawClient c(server->port());
  ASSERT_TRUE(c.send(get("/teapot")));
  EXPECT_EQ(statusOf(c.response()), 418);
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413BeforeItIsReadAndTheHandlerNeverRuns) {
  Options o;
  o.max_body = 100;
  start(o);
  RawClient c(server->port());
  // Announces 300 MB and sends none of it: the answer must not wait for the body.
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n"));
  auto r = c.response();
  EXPECT_EQ(statusOf(r), 413) << r;
  EXPECT_EQ(bodyOf(r),
            "{\"code\":413,\"message\":\"request body larger than 100 bytes\"}");  // via error_body
  EXPECT_EQ(handled.load(), 0);
  EXPECT_EQ(server->stats().rejected_body, 1u);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  Options o;
  o.max_body = 100;
  start(o);
  RawClient c(server->port());
  const std::string chunk(150, 'a');
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n96\r\n" + chunk +
                     "\r\n0\r\n\r\n"));
  auto r = c.response();
  EXPECT_EQ(statusOf(r), 413) << r;
  EXPECT_EQ(handled.load(), 0);
}

TEST_F(HttpServerTest, BodiesBeyondTheGlobalBudgetAre503) {
  Options o;
  o.max_body = 1000;
  o.max_body_total = 1500;
  start(o);
  RawClient a(server->port());
  // The first body holds 1,000 bytes of the budget while it is being received...
  ASSERT_TRUE(a.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  const auto until = Clock::now() + 5s;
  while (server->stats().body_bytes_in_flight < 1000 && Clock::now() < until)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server->stats().body_bytes_in_flight, 1000u);
  // ...so a second one of 600 does not fit: 503 at once, not after the first finishes.
  RawClient b(server->port());
  ASSERT_TRUE(b.send("POST /y HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n"));
  auto rb = b.response();
  EXPECT_EQ(statusOf(rb), 503) << rb;
  EXPECT_NE(bodyOf(rb).find("server busy"), std::string::npos);
  // The first completes normally, and returns its share: a 600-byte body fits again.
  ASSERT_TRUE(a.send(std::string(997, 'b')));
  EXPECT_EQ(statusOf(a.response()), 200);
  const auto released = Clock::now() + 5s;  // returned when MHD reports the request complete
  while (server->stats().body_bytes_in_flight > 0 && Clock::now() < released)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(server->stats().body_bytes_in_flight, 0u);
  RawClient c(server->port());
  ASSERT_TRUE(c.send("POST /z HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + std::string(600, 'c')));
  EXPECT_EQ(statusOf(c.response()), 200);
}

TEST_F(HttpServerTest, OversizedHeadersAreRefusedAndTheServerCarriesOn) {
  Options o;
  o.connection_memory = 8 * 1024;
  start(o);
  {
    RawClient c(server->port());
    ASSERT_TRUE(c.send(get("/x", "X-Big: " + std::string(32 * 1024, 'a') + "\r\n")));
    auto r = c.response(2s);
    EXPECT_NE(statusOf(r), 200) << r;  // an error status or a closed connection, never the handler
  }
  EXPECT_EQ(handled.load(), 0);
  RawClient fresh(server->port());
  ASSERT_TRUE(fresh.send(get("/ok")));
  EXPECT_EQ(statusOf(fresh.response()), 200);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  RawClient c(server->port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(get("/k" + std::to_string(i))));
    auto r = c.response();
    ASSERT_EQ(statusOf(r), 200) << i << r;
    EXPECT_NE(bodyOf(r).find("/k" + std::to_string(i)), std::string::npos);
  }
  EXPECT_EQ(server->stats().connections_total, 1u);
  EXPECT_EQ(server->stats().requests, 20u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawClient c(server->port());
  ASSERT_TRUE(c.send(get("/p1") + get("/p2") + get("/p3")));
  for (int i = 1; i <= 3; ++i) {
    auto r = c.response();
    ASSERT_EQ(statusOf(r), 200);
    EXPECT_NE(bodyOf(r).find("/p" + std::to_string(i)), std::string::npos) << r;
  }
}

TEST_F(HttpServerTest, SlowClientIsCutAtTheDeadlineAndDoesNotDelayOthers) {
  Options o;
  o.request_deadline = 300ms;
  start(o);
  RawClient slow(server->port());
  ASSERT_TRUE(slow.send("GET /slow HTTP/1.1\r\nHo"));  // never completes its headers
  // Meanwhile a fresh client is answered at once.
  const auto t0 = Clock::now();
  {
    RawClient fresh(server->port());
    ASSERT_TRUE(fresh.send(get("/fresh")));
    EXPECT_EQ(statusOf(fresh.response()), 200);
    EXPECT_LT(Clock::now() - t0, 200ms);
  }  // closed before its own idle deadline would count below
  // The slow one is shut down after the deadline (the sweeper runs every 100 ms).
  EXPECT_TRUE(slow.closedWithin(3s));
  EXPECT_GE(Clock::now() - t0, 300ms);
  EXPECT_EQ(server->stats().deadline_closed, 1u);
  EXPECT_EQ(handled.load(), 1);
}

TEST_F(HttpServerTest, AKeepAliveConnectionGetsAFreshDeadlinePerRequest) {
  Options o;
  o.request_deadline = 400ms;
  start(o);
  RawClient c(server->port());
  // Three requests 250 ms apart: each arrives within its own deadline, though the connection
  // lives longer than one deadline.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get("/d")));
    ASSERT_EQ(statusOf(c.response()), 200) << i;
    if (i < 2) std::this_thread::sleep_for(250ms);  // the idle gap under test, not a wait for a condition
  }
  EXPECT_EQ(server->stats().deadline_closed, 0u);
}

TEST_F(HttpServerTest, ConnectionsPerSourceAreBounded) {
  Options o;
  o.per_source_limit = 2;
  start(o);
  RawClient a(server->port(), "127.0.0.2"), b(server->port(), "127.0.0.2");
  ASSERT_TRUE(a.send(get("/a")));
  ASSERT_TRUE(b.send(get("/b")));
  EXPECT_EQ(statusOf(a.response()), 200);
  EXPECT_EQ(statusOf(b.response()), 200);
  RawClient third(server->port(), "127.0.0.2");
  (void)third.send(get("/c"));
  EXPECT_TRUE(third.closedWithin(2s));  // refused: a third connection from the same source
  RawClient other(server->port(), "127.0.0.3");
  ASSERT_TRUE(other.send(get("/d")));
  EXPECT_EQ(statusOf(other.response()), 200);  // another source is not affected
}

}  // namespace
}  // namespace floatlb::http
