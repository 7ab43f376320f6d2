// flb-dp-loader: test helper for traffic_test.sh. Opens LibbpfDatapath (unpinned) on the given
// interfaces, installs one service 192.168.248.10:80/tcp -> 192.168.218.11,12:8080 (rr), prints
// "ready", waits for stdin to close, prints the global counters, detaches and exits.
//   flb-dp-loader <mode 0|1|2> <snat_ip|0> <if>...
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dataplane/libbpf_datapath.h"

using floatlb::dataplane::LibbpfDatapath;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: flb-dp-loader <mode> <snat_ip|0> <if>...\n");
    return 2;
  }
  LibbpfDatapath::Options o;
  o.pin_dir = "";
  for (int i = 3; i < argc; ++i) o.interfaces.emplace_back(argv[i]);
  auto dp = LibbpfDatapath::open(o);
  if (!dp.ok()) {
    std::fprintf(stderr, "open: %s\n", dp.error().message.c_str());
    return 1;
  }
  flb_svc_key key{};
  inet_pton(AF_INET, "192.168.248.10", &key.vip);
  key.port = htons(80);
  key.proto = IPPROTO_TCP;
  flb_svc svc{};
  svc.rule_id = 1;
  svc.mode = static_cast<uint8_t>(std::atoi(argv[1]));
  svc.sel = FLB_SEL_RR;
  svc.n_eps = 2;
  svc.n_slots = 2;
  svc.ct_timeout_s = 240;
  const char* eps[2] = {"192.168.218.11", "192.168.218.12"};
  for (int i = 0; i < 2; ++i) {
    inet_pton(AF_INET, eps[i], &svc.eps[i].ip);
    svc.eps[i].port = htons(8080);
    svc.eps[i].flags = FLB_EP_F_ACTIVE;
    svc.slots[i] = static_cast<uint8_t>(i);
    if (std::string(argv[2]) != "0") inet_pton(AF_INET, argv[2], &svc.eps[i].snat_ip);
  }
  if (auto st = (*dp)->upsertService(key, svc); !st.ok()) {
    std::fprintf(stderr, "service: %s\n", st.error().message.c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  auto stats = (*dp)->globalStats();
  if (stats.ok()) {
    for (int i = 0; i < FLB_STAT_MAX; ++i) {
      std::printf("%s=%llu ", floatlb::dataplane::statName(static_cast<flb_stat>(i)),
                  static_cast<unsigned long long>((*stats)[static_cast<size_t>(i)]));
    }
  }
  std::printf("\n");
  return (*dp)->detachAll().ok() ? 0 : 1;
}
