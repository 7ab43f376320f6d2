// Real probers on 127.0.0.1 against sockets and a tiny HTTP responder opened by the test itself.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "health/system_prober.h"

namespace floatlb::health {
namespace {

using std::chrono::milliseconds;
const Ip4 kLoopback = Ip4::fromOctets(127, 0, 0, 1);

// A socket bound to 127.0.0.1:<ephemeral>; listening for TCP when `listen_tcp`.
struct LocalSocket {
  int fd = -1;
  uint16_t port = 0;
  LocalSocket(int type, bool listen_tcp) {
    fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return;
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (listen_tcp) listen(fd, 16);
  }
  ~LocalSocket() {
    if (fd >= 0) close(fd);
  }
};

// A port nobody listens on: bind, note the port, close.
uint16_t closedPort(int type) {
  LocalSocket s(type, false);
  return s.port;
}

// Accepts connections for the test's lifetime and answers each with `status_line`.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::string status_line)
      : sock_(SOCK_STREAM, true), status_(std::move(status_line)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return sock_.port; }
  std::string lastRequest() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{sock_.fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept(sock_.fd, nullptr, nullptr);
      if (c < 0) continue;
      char buf[2048];
      pollfd cp{c, POLLIN, 0};
      ssize_t n = poll(&cp, 1, 2000) > 0 ? recv(c, buf, sizeof(buf), 0) : 0;
      {
        std::lock_guard lock(mu_);
        last_.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
      }
      std::string resp = status_ + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      close(c);
    }
  }
  LocalSocket sock_;
  std::string status_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::string last_;
};

TEST(ProberTest, TcpOpenAndClosed) {
  LocalSocket listener(SOCK_STREAM, true);
  ASSERT_NE(listener.port, 0);
  auto open = probeTcp(kLoopback, listener.port, milliseconds(500));
  EXPECT_TRUE(open.ok) << open.detail;
  auto closed = probeTcp(kLoopback, closedPort(SOCK_STREAM), milliseconds(500));
  EXPECT_FALSE(closed.ok);
  EXPECT_NE(closed.detail.find("refused"), std::string::npos) << closed.detail;
}

TEST(ProberTest, UdpOpenAndClosed) {
  LocalSocket open_sock(SOCK_DGRAM, false);  // bound: datagrams are accepted silently
  ASSERT_NE(open_sock.port, 0);
  auto start = std::chrono::steady_clock::now();
  auto open = probeUdp(kLoopback, open_sock.port, milliseconds(200));
  EXPECT_TRUE(open.ok) << open.detail;
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(190))
      << "silence means waiting the timeout";
  auto closed = probeUdp(kLoopback, closedPort(SOCK_DGRAM), milliseconds(2000));
  EXPECT_FALSE(closed.ok);
  EXPECT_NE(closed.detail.find("unreachable"), std::string::npos) << closed.detail;
}

TEST(ProberTest, HttpStatusRules) {
  TinyHttpServer ok("HTTP/1.1 200 OK");
  auto r = probeHttp(kLoopback, ok.port(), "/healthz", milliseconds(1000), false);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(ok.lastRequest().rfind("HEAD /healthz HTTP/1.0\r\n", 0), 0u) << ok.lastRequest();

  TinyHttpServer redirect("HTTP/1.1 302 Found");
  EXPECT_FALSE(probeHttp(kLoopback, redirect.port(), "", milliseconds(1000), false).ok) << "strict: only 200";
  EXPECT_TRUE(probeHttp(kLoopback, redirect.port(), "", milliseconds(1000), true).ok) << "relaxed: 200..399";

  TinyHttpServer broken("HTTP/1.1 503 Service Unavailable");
  auto b = probeHttp(kLoopback, broken.port(), "/", milliseconds(1000), true);
  EXPECT_FALSE(b.ok);
  EXPECT_NE(b.detail.find("503"), std::string::npos) << b.detail;

  EXPECT_FALSE(probeHttp(kLoopback, closedPort(SOCK_STREAM), "/", milliseconds(500), false).ok);
}

TEST(ProberTest, HttpTimesOutOnASilentServer) {
  LocalSocket silent(SOCK_STREAM, true);  // accepts (backlog) but never answers
  auto start = std::chrono::steady_clock::now();
  auto r = probeHttp(kLoopback, silent.port, "/", milliseconds(200), false);
  EXPECT_FALSE(r.ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
}

TEST(ProberTest, PingLoopback) {
  // Root always has CAP_NET_RAW here: as root (the suite's CI) the probe must really run; only an
  // unprivileged user outside ping_group_range may skip (and ctest reports that as a skip).
  if (!pingPermitted()) {
    ASSERT_NE(geteuid(), 0u) << "ICMP socket refused although running as root";
    GTEST_SKIP() << "ICMP not permitted: ping_group_range excludes us and no CAP_NET_RAW";
  }
  auto r = probePing(kLoopback, milliseconds(1000));
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_GT(r.rtt, Duration{0});
  EXPECT_LT(r.rtt, milliseconds(1000));
}

TEST(ProberTest, SystemProberDispatches) {
  LocalSocket listener(SOCK_STREAM, true);
  SystemProber prober;
  ProbeSpec spec{TargetKey{kLoopback, ProbeType::kTcp, listener.port}, "", milliseconds(500)};
  EXPECT_TRUE(prober.probe(spec).ok);
  spec.target.port = closedPort(SOCK_STREAM);
  EXPECT_FALSE(prober.probe(spec).ok);
}

}  // namespace
}  // namespace floatlb::health
