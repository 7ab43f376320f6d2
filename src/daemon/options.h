// floatlb daemon flags. Names follow the loxilb daemon (loxilb.md §1) so the seed's command lines
// work; floatlb-only flags are marked. GNU style: --name=value or --name value (parsed by CLI11).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace floatlb::daemon {

struct Options {
  std::string host = "0.0.0.0";
  uint16_t port = 11111;
  std::string config_path = "/etc/floatlb/";
  std::string loglevel = "info";
  std::string logfile;  // floatlb: also append logs here
  // HA / cluster (issue: HA pair)
  std::string cluster = "none";  // peer list
  int self = 0;
  std::string ka = "none";  // REMOTE[:SOURCE[:INTERVAL_US]]
  std::string ha_key_file;  // floatlb: shared secret for heartbeats and sync (file path)
  std::string ha_hook = "/opt/floatlb/ha_hook.sh";  // run on every HA transition if it exists
  // cloud
  std::string cloud = "on-prem";
  std::string cloud_cidr_block;
  std::string cloud_instance;
  std::string cloud_mode = "subnet";  // --cloudmode: subnet | routed
  // datapath (floatlb)
  std::vector<std::string> interfaces;  // empty = all non-loopback interfaces (watched)
  std::string blacklist;                // regex of interfaces to skip
  std::string bpf_pin_dir = "/sys/fs/bpf/floatlb";
  // REST API security (floatlb; docs/security.md)
  std::string api_token_file;  // bearer tokens, one per line; empty = no authentication
  std::string tls_cert;        // PEM certificate (chain) for HTTPS
  std::string tls_key;         // PEM private key for HTTPS
  uint16_t tls_port = 0;       // 0 = HTTPS on --port instead of HTTP
  bool detach_on_exit = false;
  bool remove_datapath = false;  // one-shot: removeDatapath() instead of running
  bool help = false;
  bool version = false;
};

// Parses argv (without argv[0]). Errors name the flag and say what is expected.
Result<Options> parseOptions(const std::vector<std::string>& args);
std::string usage();

}  // namespace floatlb::daemon
