#include "daemon/options.h"

#include <charconv>
#include <functional>
#include <map>
#include <sstream>

namespace floatlb::daemon {

namespace {

struct Flag {
  const char* help;
  bool takes_value;
  std::function<Status(Options&, const std::string&)> set;
};

Status setInt(int& out, const std::string& flag, const std::string& v, int lo, int hi) {
  int x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi) {
    return makeError(ErrorCode::kInvalidArgument, "--" + flag + ": expected a number " + std::to_string(lo) + ".." +
                                                      std::to_string(hi) + ", got '" + v + "'");
  }
  out = x;
  return okStatus();
}

std::vector<std::string> splitCsv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

const std::map<std::string, Flag>& flags() {
  static const std::map<std::string, Flag> kFlags = {
      {"host", {"REST API address (default 0.0.0.0)", true, [](Options& o, const std::string& v) -> Status {
                  o.host = v;
                  return okStatus();
                }}},
      {"port", {"REST API port (default 11111)", true, [](Options& o, const std::string& v) -> Status {
                  int p = 0;
                  FLB_TRY(setInt(p, "port", v, 1, 65535));
                  o.port = static_cast<uint16_t>(p);
                  return okStatus();
                }}},
      {"config-path", {"directory for persisted rules (default /etc/floatlb/)", true,
                       [](Options& o, const std::string& v) -> Status {
                         o.config_path = v;
                         return okStatus();
                       }}},
      {"loglevel", {"debug|info|warning|error (default info)", true, [](Options& o, const std::string& v) -> Status {
                      o.loglevel = v;
                      return okStatus();
                    }}},
      {"logfile", {"also append logs to this file (floatlb)", true, [](Options& o, const std::string& v) -> Status {
                     o.logfile = v;
                     return okStatus();
                   }}},
      {"cluster", {"comma-separated HA peer addresses", true, [](Options& o, const std::string& v) -> Status {
                     o.cluster = v;
                     return okStatus();
                   }}},
      {"self", {"node id in the cluster (0 or 1)", true,
                [](Options& o, const std::string& v) -> Status { return setInt(o.self, "self", v, 0, 1); }}},
      {"ka", {"peer heartbeat: REMOTE[:SOURCE[:INTERVAL_US]]", true, [](Options& o, const std::string& v) -> Status {
                o.ka = v;
                return okStatus();
              }}},
      {"ha-key-file", {"file holding the shared secret that signs heartbeats and sync frames (floatlb)", true,
                       [](Options& o, const std::string& v) -> Status {
                         o.ha_key_file = v;
                         return okStatus();
                       }}},
      {"ha-hook", {"script run as HOOK INSTANCE STATE VIP on every HA transition (default /opt/floatlb/ha_hook.sh)",
                   true, [](Options& o, const std::string& v) -> Status {
                     o.ha_hook = v;
                     return okStatus();
                   }}},
      {"cloud", {"on-prem|aws", true, [](Options& o, const std::string& v) -> Status {
                   o.cloud = v;
                   return okStatus();
                 }}},
      {"cloudcidrblock", {"CIDR of the VIP subnet (AWS multi-AZ)", true, [](Options& o, const std::string& v) -> Status {
                            o.cloud_cidr_block = v;
                            return okStatus();
                          }}},
      {"cloudmode", {"subnet|routed: move the VIP subnet (default) or only routes (AWS multi-AZ)", true,
                     [](Options& o, const std::string& v) -> Status {
                       if (v != "subnet" && v != "routed") {
                         return makeError(ErrorCode::kInvalidArgument, "--cloudmode: expected subnet or routed");
                       }
                       o.cloud_mode = v;
                       return okStatus();
                     }}},
      {"cloudinstance", {"suffix for AWS tag values", true, [](Options& o, const std::string& v) -> Status {
                           o.cloud_instance = v;
                           return okStatus();
                         }}},
      {"interfaces", {"attach only to these interfaces, comma separated (floatlb; default: all, watched)", true,
                      [](Options& o, const std::string& v) -> Status {
                        o.interfaces = splitCsv(v);
                        return okStatus();
                      }}},
      {"blacklist", {"regex of interfaces not to attach to", true, [](Options& o, const std::string& v) -> Status {
                       o.blacklist = v;
                       return okStatus();
                     }}},
      {"bpf-pin-dir", {"bpffs directory for pinned maps (floatlb; default /sys/fs/bpf/floatlb)", true,
                       [](Options& o, const std::string& v) -> Status {
                         o.bpf_pin_dir = v;
                         return okStatus();
                       }}},
      {"detach-on-exit", {"remove the datapath on exit (default: keep forwarding across restarts)", false,
                          [](Options& o, const std::string&) -> Status {
                            o.detach_on_exit = true;
                            return okStatus();
                          }}},
      {"help", {"show this help", false, [](Options& o, const std::string&) -> Status {
                  o.help = true;
                  return okStatus();
                }}},
      {"version", {"print the version", false, [](Options& o, const std::string&) -> Status {
                     o.version = true;
                     return okStatus();
                   }}},
  };
  return kFlags;
}

}  // namespace

Result<Options> parseOptions(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h") a = "--help";
    if (a.rfind("--", 0) != 0) {
      return makeError(ErrorCode::kInvalidArgument, "unexpected argument '" + a + "' (flags look like --name=value)");
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = flags().find(name);
    if (it == flags().end()) return makeError(ErrorCode::kInvalidArgument, "unknown flag --" + name + " (see --help)");
    if (it->second.takes_value && !has_value) {
      if (i + 1 >= args.size()) return makeError(ErrorCode::kInvalidArgument, "--" + name + " needs a value");
      value = args[++i];
    } else if (!it->second.takes_value && has_value) {
      return makeError(ErrorCode::kInvalidArgument, "--" + name + " takes no value");
    }
    FLB_TRY(it->second.set(o, value));
  }
  if (o.cloud != "on-prem" && o.cloud != "aws") {
    return makeError(ErrorCode::kInvalidArgument, "--cloud: expected on-prem or aws, got '" + o.cloud + "'");
  }
  return o;
}

std::string usage() {
  std::string s = "usage: floatlb [flags]\n";
  for (const auto& [name, f] : flags()) {
    s += "  --" + name + (f.takes_value ? "=VALUE" : "") + "\n      " + f.help + "\n";
  }
  return s;
}

}  // namespace floatlb::daemon
