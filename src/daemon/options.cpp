#include "daemon/options.h"

#include <CLI/CLI.hpp>

#include "common/strings.h"

namespace floatlb::daemon {

namespace {

// The flag table, bound to `o`. Names follow the loxilb daemon; "(floatlb)" marks our own.
void describe(CLI::App& app, Options& o) {
  app.set_help_flag();
  app.add_flag("-h,--help", o.help, "show this help");
  app.add_flag("--version", o.version, "print the version");
  app.add_option("--host", o.host, "REST API address (default 0.0.0.0)");
  app.add_option("--port", o.port, "REST API port (default 11111)")->check(CLI::Range(1, 65535));
  app.add_option("--config-path", o.config_path, "directory for persisted rules (default /etc/floatlb/)");
  app.add_option("--loglevel", o.loglevel, "debug|info|warning|error (default info)");
  app.add_option("--logfile", o.logfile, "also append logs to this file (floatlb)");
  app.add_option("--cluster", o.cluster, "comma-separated HA peer addresses");
  app.add_option("--self", o.self, "node id in the cluster (0 or 1)")->check(CLI::Range(0, 1));
  app.add_option("--ka", o.ka, "peer heartbeat: REMOTE[:SOURCE[:INTERVAL_US]]");
  app.add_option("--ha-key-file", o.ha_key_file,
                 "file holding the shared secret that signs heartbeats and sync frames (floatlb)");
  app.add_option(
      "--ha-hook", o.ha_hook,
      "script run as HOOK INSTANCE STATE VIP on every HA transition (default /opt/floatlb/ha_hook.sh)");
  app.add_option("--cloud", o.cloud, "on-prem|aws")->check(CLI::IsMember({"on-prem", "aws"}));
  app.add_option("--cloudcidrblock", o.cloud_cidr_block, "CIDR of the VIP subnet (AWS multi-AZ)");
  app.add_option("--cloudmode", o.cloud_mode,
                 "subnet|routed: move the VIP subnet (default) or only routes (AWS multi-AZ)")
      ->check(CLI::IsMember({"subnet", "routed"}));
  app.add_option("--cloudinstance", o.cloud_instance, "suffix for AWS tag values");
  app.add_option_function<std::string>(
      "--interfaces", [&o](const std::string& v) { o.interfaces = splitList(v); },
      "attach only to these interfaces, comma separated (floatlb; default: all, watched)");
  app.add_option("--blacklist", o.blacklist, "regex of interfaces not to attach to");
  app.add_option("--bpf-pin-dir", o.bpf_pin_dir,
                 "bpffs directory for pinned maps (floatlb; default /sys/fs/bpf/floatlb)");
  app.add_flag("--detach-on-exit", o.detach_on_exit,
               "remove the datapath on exit (default: keep forwarding across restarts)");
  app.add_flag("--remove-datapath", o.remove_datapath,
               "detach the tc program from every interface of this network namespace, remove the maps "
               "pinned under --bpf-pin-dir, and exit (floatlb; what the package runs on removal)");
  app.add_option("--api-token-file", o.api_token_file,
                 "bearer tokens for the REST API, one per line (floatlb; default: no authentication)");
  app.add_option("--tls-cert", o.tls_cert,
                 "PEM certificate for HTTPS on the REST API (floatlb; re-read on SIGHUP)");
  app.add_option("--tls-key", o.tls_key, "PEM private key for --tls-cert (floatlb)");
  app.add_option("--tls-port", o.tls_port,
                 "serve HTTPS on this port and HTTP on --port (floatlb; default: HTTPS on --port)")
      ->check(CLI::Range(1, 65535));
}

}  // namespace

Result<Options> parseOptions(const std::vector<std::string>& args) {
  Options o;
  CLI::App app{"floatlb: eBPF L4 load balancer", "floatlb"};
  describe(app, o);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return makeError(ErrorCode::kInvalidArgument, std::string(e.what()) + " (see --help)");
  }
  if (o.tls_cert.empty() != o.tls_key.empty())
    return makeError(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  if (o.tls_port != 0 && o.tls_cert.empty())
    return makeError(ErrorCode::kInvalidArgument, "--tls-port needs --tls-cert and --tls-key");
  return o;
}

std::string usage() {
  Options o;
  CLI::App app{"floatlb: eBPF L4 load balancer", "floatlb"};
  describe(app, o);
  return app.help();
}

}  // namespace floatlb::daemon
