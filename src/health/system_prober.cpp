#include "health/system_prober.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace floatlb::health {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

sockaddr_in sockAddr(Ip4 ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = ip.networkOrder();
  return a;
}

int remainingMs(SteadyTime deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// poll() one fd until `events` or the deadline; returns revents (0 on timeout).
short waitFor(int fd, short events, SteadyTime deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, remainingMs(deadline));
    if (rc > 0) return p.revents;
    if (rc == 0) return 0;
    if (errno != EINTR) return POLLERR;
  }
}

ProbeResult fail(std::string why) { return ProbeResult{false, Duration{0}, std::move(why)}; }
ProbeResult errnoFail(const char* what) { return fail(std::string(what) + ": " + std::strerror(errno)); }

Duration since(SteadyTime start) { return std::chrono::steady_clock::now() - start; }

// Connects a non-blocking TCP socket within the deadline.
ProbeResult tcpConnect(const Fd& fd, Ip4 ip, uint16_t port, SteadyTime deadline) {
  sockaddr_in a = sockAddr(ip, port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno != EINPROGRESS) {
    return errnoFail("connect");
  }
  short rev = waitFor(fd.get(), POLLOUT, deadline);
  if (rev == 0) return fail("connect: timed out");
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
  return ProbeResult{true, Duration{0}, ""};
}

uint16_t icmpChecksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 != 0) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::atomic<uint16_t> g_ping_seq{1};

}  // namespace

ProbeResult probeTcp(Ip4 ip, uint16_t port, Duration timeout) {
  const SteadyTime start = std::chrono::steady_clock::now();
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoFail("socket");
  ProbeResult r = tcpConnect(fd, ip, port, start + timeout);
  r.rtt = since(start);
  return r;
}

ProbeResult probeUdp(Ip4 ip, uint16_t port, Duration timeout) {
  const SteadyTime start = std::chrono::steady_clock::now();
  const SteadyTime deadline = start + timeout;
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoFail("socket");
  sockaddr_in a = sockAddr(ip, port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return errnoFail("connect");
  static const char kPayload[] = "probe";
  if (send(fd.get(), kPayload, sizeof(kPayload) - 1, 0) < 0) {
    return errno == ECONNREFUSED ? fail("udp: port unreachable") : errnoFail("send");
  }
  while (true) {
    short rev = waitFor(fd.get(), POLLIN, deadline);
    if (rev == 0) break;  // silence until the deadline: the port is presumed open
    char buf[512];
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n >= 0) break;  // an answer: open
    if (errno == ECONNREFUSED) return fail("udp: port unreachable");
    if (errno != EAGAIN && errno != EINTR) return errnoFail("recv");
  }
  return ProbeResult{true, since(start), ""};
}

ProbeResult probeHttp(Ip4 ip, uint16_t port, const std::string& path, Duration timeout, bool accept_2xx_3xx) {
  const SteadyTime start = std::chrono::steady_clock::now();
  const SteadyTime deadline = start + timeout;
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoFail("socket");
  ProbeResult c = tcpConnect(fd, ip, port, deadline);
  if (!c.ok) return c;
  std::string target = path.empty() ? "/" : (path[0] == '/' ? path : "/" + path);
  std::string req = "HEAD " + target + " HTTP/1.0\r\nHost: " + ip.str() + ":" + std::to_string(port) +
                    "\r\nUser-Agent: floatlb-probe\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    if (waitFor(fd.get(), POLLOUT, deadline) == 0) return fail("http: send timed out");
    ssize_t n = send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return errnoFail("http: send");
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    if (waitFor(fd.get(), POLLIN, deadline) == 0) return fail("http: no status line before the timeout");
    char buf[1024];
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return errnoFail("http: recv");
    }
    head.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  if (head.rfind("HTTP/", 0) != 0) return fail("http: not an HTTP answer");
  size_t sp = head.find(' ');
  if (sp == std::string::npos || sp + 4 > head.size()) return fail("http: malformed status line");
  int status = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (head[i] < '0' || head[i] > '9') return fail("http: malformed status line");
    status = status * 10 + (head[i] - '0');
  }
  bool ok = accept_2xx_3xx ? (status >= 200 && status <= 399) : status == 200;
  if (!ok) return fail("http: status " + std::to_string(status));
  return ProbeResult{true, since(start), ""};
}

bool pingPermitted() {
  Fd dgram(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP));
  if (dgram.valid()) return true;
  Fd raw(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
  return raw.valid();
}

ProbeResult probePing(Ip4 ip, Duration timeout) {
  const SteadyTime start = std::chrono::steady_clock::now();
  const SteadyTime deadline = start + timeout;
  bool raw = false;
  Fd dgram(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP));
  Fd rawfd(dgram.valid() ? -1 : socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP));
  if (!dgram.valid()) {
    if (!rawfd.valid()) return errnoFail("ping: no ICMP socket (ping_group_range and CAP_NET_RAW)");
    raw = true;
  }
  const int fd = raw ? rawfd.get() : dgram.get();
  sockaddr_in a = sockAddr(ip, 0);
  // connect() makes the kernel deliver only ICMP from this address to the socket.
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return errnoFail("ping: connect");

  const uint16_t seq = g_ping_seq.fetch_add(1);
  const uint16_t ident = static_cast<uint16_t>(getpid() ^ 0x464c);  // raw only; the kernel sets it for dgram
  uint8_t pkt[64] = {};
  pkt[0] = ICMP_ECHO;
  pkt[4] = static_cast<uint8_t>(ident >> 8);
  pkt[5] = static_cast<uint8_t>(ident & 0xff);
  pkt[6] = static_cast<uint8_t>(seq >> 8);
  pkt[7] = static_cast<uint8_t>(seq & 0xff);
  std::memcpy(pkt + 8, "floatlb-probe", 13);
  uint16_t csum = icmpChecksum(pkt, sizeof(pkt));
  pkt[2] = static_cast<uint8_t>(csum >> 8);
  pkt[3] = static_cast<uint8_t>(csum & 0xff);
  const SteadyTime sent_at = std::chrono::steady_clock::now();
  if (send(fd, pkt, sizeof(pkt), 0) < 0) return errnoFail("ping: send");

  while (true) {
    if (waitFor(fd, POLLIN, deadline) == 0) return fail("ping: no echo reply before the timeout");
    uint8_t buf[1500];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return errnoFail("ping: recv");
    }
    const uint8_t* icmp = buf;
    size_t len = static_cast<size_t>(n);
    if (raw) {  // raw sockets deliver the IP header too
      if (len < 20) continue;
      size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
      if (len < ihl + 8) continue;
      icmp += ihl;
      len -= ihl;
    }
    if (len < 8 || icmp[0] != ICMP_ECHOREPLY) continue;
    uint16_t rseq = static_cast<uint16_t>(icmp[6] << 8 | icmp[7]);
    uint16_t rid = static_cast<uint16_t>(icmp[4] << 8 | icmp[5]);
    if (rseq != seq || (raw && rid != ident)) continue;
    return ProbeResult{true, std::chrono::steady_clock::now() - sent_at, ""};
  }
}

ProbeResult SystemProber::probe(const ProbeSpec& spec) {
  const TargetKey& t = spec.target;
  switch (t.type) {
    case ProbeType::kTcp:
      return probeTcp(t.ip, t.port, spec.timeout);
    case ProbeType::kUdp:
      return probeUdp(t.ip, t.port, spec.timeout);
    case ProbeType::kHttp:
      return probeHttp(t.ip, t.port, spec.request, spec.timeout, options_.http_accept_2xx_3xx);
    case ProbeType::kPing:
      return probePing(t.ip, spec.timeout);
    case ProbeType::kNone:
      return ProbeResult{true, Duration{0}, ""};
  }
  return fail("unknown probe type");
}

}  // namespace floatlb::health
