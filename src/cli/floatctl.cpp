#include "cli/floatctl.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

#include "cli/options.h"
#include "cli/views.h"
#include "common/net.h"
#include "common/version.h"

#ifndef FLOATLB_VERSION
#define FLOATLB_VERSION "unknown"
#endif

namespace floatlb::cli {
namespace {

constexpr std::string_view kApiBase = "/netlox/v1";

// Every option floatctl knows. Which ones a command accepts is listed in its CommandDef.
constexpr OptSpec kOptions[] = {
    {"apiserver", 's', OptKind::kValue, "floatlb REST server address (default 127.0.0.1)"},
    {"port", 'p', OptKind::kValue, "floatlb REST port (default 11111)"},
    {"timeout", 't', OptKind::kValue, "request timeout in seconds (default 10)"},
    {"output", 'o', OptKind::kValue, "output format: wide|json"},
    {"protocol", 0, OptKind::kValue, "http|https (default http)"},
    {"cacert", 0, OptKind::kValue, "CA certificate (PEM) that signed the server's certificate (https)"},
    {"token", 0, OptKind::kValue, "bearer token for the REST API (default: $FLOATCTL_TOKEN)"},
    {"help", 'h', OptKind::kFlag, "show help"},
    {"servName", 0, OptKind::kValue, "only rows of this service (rule name)"},
    {"tcp", 0, OptKind::kList, "PORT:TARGET pairs (create) or PORTs (delete)"},
    {"udp", 0, OptKind::kList, "PORT:TARGET pairs (create) or PORTs (delete)"},
    {"endpoints", 0, OptKind::kList, "IP:WEIGHT list"},
    {"select", 0, OptKind::kValue, "rr|hash|priority|persist|lc"},
    {"mode", 0, OptKind::kValue, "default|onearm|fullnat"},
    {"name", 0, OptKind::kValue, "rule name"},
    {"inatimeout", 0, OptKind::kValue, "session inactivity timeout (s)"},
    {"mark", 0, OptKind::kValue, "mark (block) number of the rule"},
    {"monitor", 0, OptKind::kFlag, "probe endpoint health"},
    {"privateIP", 0, OptKind::kValue, "IP used in the datapath (cloud EIP case)"},
    {"attachEP", 0, OptKind::kFlag, "add the endpoints to an existing rule"},
    {"detachEP", 0, OptKind::kFlag, "remove the endpoints from an existing rule"},
};
constexpr std::string_view kGlobalOptions[] = {"apiserver", "port", "timeout", "output", "protocol", "cacert", "token", "help"};

struct Context {
  const ParsedArgs& args;
  Transport& transport;
  ServerAddress server;
  OutputFormat format;
  std::ostream& out;
  std::ostream& err;
};

struct UsageError {
  std::string message;
};

using Handler = int (*)(Context&);

struct CommandDef {
  std::string_view verb;
  std::vector<std::string_view> nouns;  // first is canonical; empty for verb-only commands
  std::vector<std::string_view> options;
  std::string_view usage;
  std::string_view summary;
  Handler run;
  size_t max_args = 0;  // positional arguments after the noun
};

int usageError(std::ostream& err, std::string_view usage, const std::string& message) {
  err << "floatctl: " << message << "\nusage: " << usage << "\n";
  return kExitUsage;
}

// Sends one request; on failure prints one line and returns the exit code, else returns nullopt.
std::optional<HttpResponse> call(Context& ctx, const HttpRequest& req, int* exit_code) {
  auto res = ctx.transport.send(req);
  if (!res.ok()) {
    ctx.err << "floatctl: cannot reach floatlb at " << ctx.server.url() << ": " << res.error().message
            << "\n";
    *exit_code = kExitFailure;
    return std::nullopt;
  }
  if (res->status < 200 || res->status > 299) {
    ctx.err << "floatctl: " << errorLine(res->status, res->body) << "\n";
    *exit_code = kExitFailure;
    return std::nullopt;
  }
  return std::move(res).value();
}

using Renderer = Result<std::string> (*)(Context&, const std::string&);

int getAndRender(Context& ctx, std::string_view path, Renderer render) {
  int rc = kExitOk;
  auto res = call(ctx, HttpRequest{"GET", std::string(kApiBase) + std::string(path), ""}, &rc);
  if (!res) return rc;
  auto text = render(ctx, res->body);
  if (!text.ok()) {
    ctx.err << "floatctl: " << text.error().message << "\n";
    return kExitFailure;
  }
  ctx.out << *text;
  return kExitOk;
}

int getLb(Context& c) {
  return getAndRender(c, "/config/loadbalancer/all", [](Context& ctx, const std::string& body) {
    return renderLoadBalancers(body, ctx.format, ctx.args.get("servName"));
  });
}
int getCt(Context& c) {
  return getAndRender(c, "/config/conntrack/all", [](Context& ctx, const std::string& body) {
    return renderConntrack(body, ctx.format, ctx.args.get("servName"));
  });
}
int getHa(Context& c) {
  return getAndRender(c, "/config/cistate/all",
                      [](Context& ctx, const std::string& body) { return renderHaState(body, ctx.format); });
}
int getEp(Context& c) {
  return getAndRender(c, "/config/endpoint/all", [](Context& ctx, const std::string& body) {
    return renderEndpoints(body, ctx.format);
  });
}
int getBfd(Context& c) {
  return getAndRender(c, "/config/bfd/all",
                      [](Context& ctx, const std::string& body) { return renderBfd(body, ctx.format); });
}

int getHaPeers(Context& c) {
  return getAndRender(c, "/config/ha/peers",
                      [](Context& ctx, const std::string& body) { return renderHaPeers(body, ctx.format); });
}

Result<uint64_t> parseUnsigned(std::string_view text, uint64_t max, std::string_view what) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v > max) {
    return makeError(ErrorCode::kInvalidArgument, "invalid " + std::string(what) + " \"" + std::string(text) +
                                                      "\" (0.." + std::to_string(max) + ")");
  }
  return v;
}

struct PortPair {
  std::string proto;
  uint16_t port;
  uint16_t target;
};

Result<std::vector<PortPair>> parsePortPairs(const ParsedArgs& a) {
  std::vector<PortPair> out;
  for (const char* proto : {"tcp", "udp"}) {
    for (const auto& item : a.list(proto)) {
      size_t colon = item.find(':');
      if (colon == std::string::npos) {
        return makeError(ErrorCode::kInvalidArgument,
                         "--" + std::string(proto) + " expects PORT:TARGET, got \"" + item + "\"");
      }
      FLB_ASSIGN_OR_RETURN(uint16_t port, parsePort(item.substr(0, colon)));
      FLB_ASSIGN_OR_RETURN(uint16_t target, parsePort(item.substr(colon + 1)));
      out.push_back({proto, port, target});
    }
  }
  if (out.empty())
    return makeError(ErrorCode::kInvalidArgument, "need --tcp=PORT:TARGET or --udp=PORT:TARGET");
  return out;
}

Result<nlohmann::ordered_json> parseEndpoints(const ParsedArgs& a) {
  nlohmann::ordered_json eps = nlohmann::ordered_json::array();
  for (const auto& item : a.list("endpoints")) {
    size_t colon = item.rfind(':');
    if (colon == std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument, "--endpoints expects IP:WEIGHT, got \"" + item + "\"");
    }
    FLB_ASSIGN_OR_RETURN(Ip4 ip, Ip4::parse(item.substr(0, colon)));
    FLB_ASSIGN_OR_RETURN(uint64_t weight, parseUnsigned(item.substr(colon + 1), 255, "endpoint weight"));
    eps.push_back({{"endpointIP", ip.str()}, {"weight", weight}});
  }
  if (eps.empty()) return makeError(ErrorCode::kInvalidArgument, "need --endpoints=IP:WEIGHT[,IP:WEIGHT...]");
  return eps;
}

Result<int> lookup(std::string_view value, std::initializer_list<std::string_view> names,
                   std::string_view what) {
  int i = 0;
  for (auto n : names) {
    if (n == value) return i;
    ++i;
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid " + std::string(what) + " \"" + std::string(value) + "\"");
}

// Builds the POST bodies of `create lb` (one rule per port pair, like loxicmd).
Result<std::vector<HttpRequest>> buildCreateLb(const ParsedArgs& a) {
  if (a.positional.size() != 3)
    return makeError(ErrorCode::kInvalidArgument, "create lb needs exactly one IP");
  FLB_ASSIGN_OR_RETURN(Ip4 vip, Ip4::parse(a.positional[2]));
  FLB_ASSIGN_OR_RETURN(auto pairs, parsePortPairs(a));
  FLB_ASSIGN_OR_RETURN(auto eps, parseEndpoints(a));
  FLB_ASSIGN_OR_RETURN(
      int sel, lookup(a.get("select", "rr"), {"rr", "hash", "priority", "persist", "lc"}, "--select"));
  FLB_ASSIGN_OR_RETURN(int mode,
                       lookup(a.get("mode", "default"), {"default", "onearm", "fullnat"}, "--mode"));
  FLB_ASSIGN_OR_RETURN(uint64_t timeout, parseUnsigned(a.get("inatimeout", "0"), 86400, "--inatimeout"));
  FLB_ASSIGN_OR_RETURN(uint64_t mark, parseUnsigned(a.get("mark", "0"), UINT32_MAX, "--mark"));
  if (a.flag("attachEP") && a.flag("detachEP")) {
    return makeError(ErrorCode::kInvalidArgument, "--attachEP and --detachEP are mutually exclusive");
  }
  std::string private_ip;
  if (a.has("privateIP")) {
    FLB_ASSIGN_OR_RETURN(Ip4 pip, Ip4::parse(a.get("privateIP")));
    private_ip = pip.str();
  }
  std::vector<HttpRequest> out;
  for (const auto& p : pairs) {
    nlohmann::ordered_json svc = {{"externalIP", vip.str()}};
    if (!private_ip.empty()) svc["privateIP"] = private_ip;
    svc["port"] = p.port;
    svc["protocol"] = p.proto;
    svc["sel"] = sel;
    svc["mode"] = mode;
    svc["inactiveTimeOut"] = timeout;
    svc["block"] = mark;
    svc["monitor"] = a.flag("monitor");
    if (a.has("name")) svc["name"] = a.get("name");
    svc["oper"] = a.flag("attachEP") ? 1 : (a.flag("detachEP") ? 2 : 0);
    nlohmann::ordered_json endpoints = eps;
    for (auto& ep : endpoints) {
      nlohmann::ordered_json e = {
          {"endpointIP", ep["endpointIP"]}, {"targetPort", p.target}, {"weight", ep["weight"]}};
      ep = std::move(e);
    }
    nlohmann::ordered_json body = {{"serviceArguments", svc}, {"endpoints", endpoints}};
    out.push_back(HttpRequest{"POST", std::string(kApiBase) + "/config/loadbalancer", body.dump()});
  }
  return out;
}

std::string escapePathSegment(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::vector<HttpRequest>> buildDeleteLb(const ParsedArgs& a) {
  std::string base = std::string(kApiBase) + "/config/loadbalancer";
  if (a.has("name")) {
    if (a.positional.size() > 2 || a.has("tcp") || a.has("udp")) {
      return makeError(ErrorCode::kInvalidArgument, "--name cannot be combined with IP/--tcp/--udp");
    }
    if (a.get("name").empty()) return makeError(ErrorCode::kInvalidArgument, "--name needs a value");
    return std::vector<HttpRequest>{{"DELETE", base + "/name/" + escapePathSegment(a.get("name")), ""}};
  }
  if (a.positional.size() != 3)
    return makeError(ErrorCode::kInvalidArgument, "delete lb needs exactly one IP");
  FLB_ASSIGN_OR_RETURN(Ip4 vip, Ip4::parse(a.positional[2]));
  FLB_ASSIGN_OR_RETURN(uint64_t mark, parseUnsigned(a.get("mark", "0"), UINT32_MAX, "--mark"));
  std::vector<HttpRequest> out;
  for (const char* proto : {"tcp", "udp"}) {
    for (const auto& item : a.list(proto)) {
      FLB_ASSIGN_OR_RETURN(uint16_t port, parsePort(item));
      out.push_back({"DELETE",
                     base + "/externalipaddress/" + vip.str() + "/port/" + std::to_string(port) +
                         "/protocol/" + proto + "?block=" + std::to_string(mark) + "&bgp=false",
                     ""});
    }
  }
  if (out.empty())
    return makeError(ErrorCode::kInvalidArgument, "need --tcp=PORT or --udp=PORT (or --name=NAME)");
  return out;
}

// Sends mutating requests in order and stops at the first failure. A 200 answer whose "result"
// starts with "Error" (the reference's DSR quirk) also counts as a failure.
int sendAll(Context& ctx, const std::vector<HttpRequest>& reqs) {
  for (const auto& req : reqs) {
    int rc = kExitOk;
    auto res = call(ctx, req, &rc);
    if (!res) return rc;
    try {
      auto j = nlohmann::json::parse(res->body);
      if (j.is_object() && j.contains("result") && j["result"].is_string()) {
        const std::string result = j["result"].get<std::string>();
        if (result.rfind("Error", 0) == 0) {
          ctx.err << "floatctl: " << result << "\n";
          return kExitFailure;
        }
      }
    } catch (const std::exception&) {
      // A 2xx answer without a JSON body is a success.
    }
  }
  return kExitOk;
}

constexpr std::string_view kCreateLbUsage =
    "floatctl create lb IP --tcp=PORT:TARGET[,...] | --udp=PORT:TARGET[,...] --endpoints=IP:WEIGHT[,...] "
    "[--select=rr|hash|priority|persist|lc] [--mode=default|onearm|fullnat] [--name=NAME] [--inatimeout=S] "
    "[--mark=N] [--monitor] [--privateIP=IP] [--attachEP|--detachEP]";
constexpr std::string_view kDeleteLbUsage =
    "floatctl delete lb IP --tcp=PORT[,...] | --udp=PORT[,...] [--mark=N]  |  floatctl delete lb --name=NAME";

int createLb(Context& ctx) {
  auto reqs = buildCreateLb(ctx.args);
  if (!reqs.ok()) return usageError(ctx.err, kCreateLbUsage, reqs.error().message);
  return sendAll(ctx, *reqs);
}

int deleteLb(Context& ctx) {
  auto reqs = buildDeleteLb(ctx.args);
  if (!reqs.ok()) return usageError(ctx.err, kDeleteLbUsage, reqs.error().message);
  return sendAll(ctx, *reqs);
}

int version(Context& ctx) {
  ctx.out << "floatctl version " << projectVersion() << "\n";
  return kExitOk;
}

const std::vector<CommandDef>& commands() {
  static const std::vector<CommandDef> kCommands = {
      {"get",
       {"loadbalancer", "lb", "loadbalancers", "lbs"},
       {"servName"},
       "floatctl get lb [-o wide|json] [--servName=NAME]",
       "list load-balancer rules",
       getLb},
      {"get",
       {"conntrack", "ct", "conntracks", "cts"},
       {"servName"},
       "floatctl get ct [--servName=NAME] [-o json]",
       "list tracked connections",
       getCt},
      {"get",
       {"hastate", "ha", "HAstate"},
       {},
       "floatctl get ha [-o json]",
       "show HA state per instance",
       getHa},
      {"get",
       {"endpoint", "ep", "endpoints"},
       {},
       "floatctl get ep [-o json]",
       "show endpoint health",
       getEp},
      {"get", {"bfd"}, {}, "floatctl get bfd [-o wide|json]", "show BFD sessions", getBfd},
      {"get",
       {"hapeers", "peers"},
       {},
       "floatctl get hapeers [-o json]",
       "show HA peers: heartbeat, sync state, entries sent/received, sync lag (floatlb)",
       getHaPeers},
      {"create",
       {"loadbalancer", "lb"},
       {"tcp", "udp", "endpoints", "select", "mode", "name", "inatimeout", "mark", "monitor", "privateIP",
        "attachEP", "detachEP"},
       kCreateLbUsage,
       "create or modify a load-balancer rule",
       createLb,
       1},
      {"delete",
       {"loadbalancer", "lb"},
       {"tcp", "udp", "mark", "name"},
       kDeleteLbUsage,
       "delete load-balancer rules",
       deleteLb,
       1},
      {"version", {}, {}, "floatctl version", "print the floatctl version", version},
  };
  return kCommands;
}

void printHelp(std::ostream& os) {
  os << "floatctl - command line for the floatlb REST API (loxicmd compatible)\n\nCommands:\n";
  for (const auto& c : commands()) os << "  " << c.usage << "\n      " << c.summary << "\n";
  os << "\nGlobal flags:\n";
  for (auto name : kGlobalOptions) {
    for (const auto& o : kOptions) {
      if (o.name != name) continue;
      if (o.short_name != 0) {
        os << "  -" << o.short_name << ", --" << o.name << "\t" << o.help << "\n";
      } else {
        os << "      --" << o.name << "\t" << o.help << "\n";
      }
    }
  }
}

const CommandDef* findCommand(const std::vector<std::string>& pos) {
  if (pos.empty()) return nullptr;
  for (const auto& c : commands()) {
    if (pos[0] != c.verb) continue;
    if (c.nouns.empty()) return &c;
    if (pos.size() < 2) continue;
    if (std::find(c.nouns.begin(), c.nouns.end(), pos[1]) != c.nouns.end()) return &c;
  }
  return nullptr;
}

}  // namespace

int runFloatctl(const std::vector<std::string>& args, const TransportFactory& factory, std::ostream& out,
                std::ostream& err) {
  constexpr std::string_view kUsage =
      "floatctl [-s HOST] [-p PORT] [-t SECONDS] [-o wide|json] [--protocol https [--cacert CA]] [--token T] COMMAND ...";
  auto parsed = parseArgs(kOptions, args);
  if (!parsed.ok()) {
    // Name the command's own usage when the words before the bad flag identify one.
    std::vector<std::string> words;
    for (const auto& arg : args) {
      if (arg.empty() || arg[0] == '-' || words.size() == 2) break;
      words.push_back(arg);
    }
    const CommandDef* cmd = findCommand(words);
    return usageError(err, cmd != nullptr ? cmd->usage : kUsage, parsed.error().message);
  }
  const ParsedArgs& a = *parsed;
  if (a.positional.empty() || a.positional[0] == "help") {
    if (a.positional.empty() && !a.flag("help")) {
      err << "usage: " << kUsage << "\n";
      printHelp(err);
      return kExitUsage;
    }
    printHelp(out);
    return kExitOk;
  }
  const CommandDef* cmd = findCommand(a.positional);
  if (cmd == nullptr) {
    std::string what = a.positional[0];
    if (a.positional.size() > 1 && (what == "get" || what == "create" || what == "delete"))
      what += " " + a.positional[1];
    return usageError(err, kUsage, "unknown command \"" + what + "\" (run floatctl --help)");
  }
  if (a.flag("help")) {
    out << "usage: " << cmd->usage << "\n";
    return kExitOk;
  }
  for (const auto& name : a.names()) {
    bool allowed =
        std::find(std::begin(kGlobalOptions), std::end(kGlobalOptions), name) != std::end(kGlobalOptions) ||
        std::find(cmd->options.begin(), cmd->options.end(), name) != cmd->options.end();
    if (!allowed) return usageError(err, cmd->usage, "unknown flag: --" + name);
  }
  const size_t words = cmd->nouns.empty() ? 1 : 2;
  if (a.positional.size() > words + cmd->max_args) {
    return usageError(err, cmd->usage, "unexpected argument \"" + a.positional[words + cmd->max_args] + "\"");
  }

  ServerAddress server;
  server.host = a.get("apiserver", "127.0.0.1");
  if (server.host.empty()) return usageError(err, kUsage, "--apiserver needs a value");
  auto port = parsePort(a.get("port", "11111"));
  if (!port.ok()) return usageError(err, kUsage, "--port: " + port.error().message);
  server.port = *port;
  auto timeout = parseUnsigned(a.get("timeout", "10"), 3600, "--timeout");
  if (!timeout.ok()) return usageError(err, kUsage, timeout.error().message);
  server.timeout = std::chrono::seconds(*timeout);
  server.protocol = a.get("protocol", "http");
  if (server.protocol != "http" && server.protocol != "https")
    return usageError(err, kUsage, "--protocol must be http or https, got \"" + server.protocol + "\"");
  server.cacert = a.get("cacert");
  if (!server.cacert.empty() && server.protocol != "https")
    return usageError(err, kUsage, "--cacert needs --protocol https");
  if (a.has("token")) {
    server.token = a.get("token");
  } else if (const char* env = std::getenv("FLOATCTL_TOKEN")) {
    server.token = env;
  }
  OutputFormat format = OutputFormat::kTable;
  const std::string o = a.get("output");
  if (o == "wide") {
    format = OutputFormat::kWide;
  } else if (o == "json") {
    format = OutputFormat::kJson;
  } else if (!o.empty()) {
    return usageError(err, kUsage, "--output must be wide or json, got \"" + o + "\"");
  }

  std::unique_ptr<Transport> transport = factory(server);
  Context ctx{a, *transport, server, format, out, err};
  return cmd->run(ctx);
}

}  // namespace floatlb::cli
