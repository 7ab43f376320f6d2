// The real probes, over the host's sockets. Each is bounded by the spec's timeout.
//   tcp  : non-blocking connect(); success when it completes.
//   udp  : connected UDP socket, send "probe", wait; failure only if ICMP port-unreachable comes
//          back within the timeout (recv() -> ECONNREFUSED). Silence counts as success.
//   http : "HEAD <path> HTTP/1.0"; success = status 200 (the reference), or any 200..399 when
//          SystemProberOptions::http_accept_2xx_3xx is set.
//   ping : one ICMP echo; an unprivileged ICMP datagram socket when net.ipv4.ping_group_range
//          allows it, else a raw socket (needs CAP_NET_RAW). rtt = measured round trip.
#pragma once

#include "health/probe.h"

namespace floatlb::health {

struct SystemProberOptions {
  bool http_accept_2xx_3xx = false;
};

class SystemProber final : public Prober {
 public:
  explicit SystemProber(SystemProberOptions options = {}) : options_(options) {}
  ProbeResult probe(const ProbeSpec& spec) override;

 private:
  SystemProberOptions options_;
};

ProbeResult probeTcp(Ip4 ip, uint16_t port, Duration timeout);
ProbeResult probeUdp(Ip4 ip, uint16_t port, Duration timeout);
ProbeResult probeHttp(Ip4 ip, uint16_t port, const std::string& path, Duration timeout, bool accept_2xx_3xx);
ProbeResult probePing(Ip4 ip, Duration timeout);
// Whether this process may send ICMP echo at all (datagram or raw socket); for tests and logs.
bool pingPermitted();

}  // namespace floatlb::health
