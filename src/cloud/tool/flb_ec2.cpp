#include "cloud/tool/flb_ec2.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cloud/aws/bootstrap.h"
#include "cloud/takeover/exec.h"
#include "cloud/takeover/identity.h"
#include "cloud/takeover/routed_exec.h"
#include "common/log.h"
#include "common/strings.h"

namespace floatlb::cloud::tool {

namespace {

namespace aws = cloud::aws;
namespace tk = cloud::takeover;

struct Args {
  std::string endpoint, region;
  bool debug = false, stats = false;
  std::vector<std::string> filters, publicIps, instanceIds;
  // takeover
  std::string cidr, instanceId, vpcId, az, tagSuffix;
  std::vector<std::string> vips, sgs;
  // check
  std::string mode = "routed", eniId, vipAz;
  std::vector<std::string> peers;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "flb-ec2: %s\n", what.c_str());
  return 1;
}

std::string tagText(const aws::Tags& t) {
  std::string s;
  for (const auto& x : t) s += (s.empty() ? "" : ",") + x.key + "=" + x.value;
  return s.empty() ? "-" : s;
}

aws::Filters parseFilters(const std::vector<std::string>& specs) {
  aws::Filters f;
  for (const auto& s : specs) {
    const size_t eq = s.find('=');
    f.push_back({s.substr(0, eq),
                 eq == std::string::npos ? std::vector<std::string>{} : splitList(s.substr(eq + 1))});
  }
  return f;
}

// --vip PRIV[=EIP]
Result<std::vector<tk::VipEip>> parseVips(const std::vector<std::string>& specs) {
  std::vector<tk::VipEip> out;
  for (const auto& v : specs) {
    const size_t eq = v.find('=');
    auto ip = Ip4::parse(v.substr(0, eq));
    if (!ip) return makeError(ErrorCode::kInvalidArgument, "--vip " + v + ": " + ip.error().message);
    out.push_back({*ip, eq == std::string::npos ? "" : v.substr(eq + 1)});
  }
  return out;
}

int runImds(aws::ImdsClient& imds) {
  auto id = imds.instanceId();
  if (!id.ok()) return fail(id.error().message);
  std::printf("instance-id %s\naz %s\nregion %s\n", id->c_str(), imds.availabilityZone().valueOr("?").c_str(),
              imds.region().valueOr("?").c_str());
  auto macs = imds.macs();
  if (!macs.ok()) return fail(macs.error().message);
  for (const auto& mac : *macs) {
    auto i = imds.interfaceInfo(mac);
    if (!i.ok()) return fail(i.error().message);
    std::printf("eni mac=%s id=%s dev=%d vpc=%s subnet=%s cidr=%s", mac.c_str(), i->interfaceId.c_str(),
                i->deviceNumber, i->vpcId.c_str(), i->subnetId.c_str(), i->subnetCidr.c_str());
    for (const auto& ip : i->localIpv4s) std::printf(" ip=%s", ip.c_str());
    for (const auto& sg : i->securityGroupIds) std::printf(" sg=%s", sg.c_str());
    std::printf("\n");
  }
  auto creds = imds.instanceProfileCredentials();
  if (!creds.ok()) return fail(creds.error().message);
  std::printf("credentials access-key=%s session-token=%s expires=%lld\n", creds->accessKeyId.c_str(),
              creds->sessionToken.empty() ? "no" : "yes", static_cast<long long>(creds->expiresEpochSec));
  return 0;
}

// One line per EC2 call: ACTION TARGET ok|ERROR LATENCYms [critical] [concurrent] [poll].
void printCalls(const tk::TakeoverTimeline& tl) {
  for (const auto& c : tl.calls) {
    std::printf("%-32s %-40s %s %lldms%s%s%s\n", c.action.c_str(), c.target.c_str(),
                c.ok ? "ok" : c.error.c_str(), static_cast<long long>(c.latencyMs),
                c.critical ? " critical" : "", c.concurrent ? " concurrent" : "", c.poll ? " poll" : "");
  }
}

int runTakeover(aws::AwsStack& stack, const Args& a, bool dry) {
  tk::TakeoverGoal goal;
  auto block = Cidr::parse(a.cidr);
  if (!block) return fail("--cidr: " + block.error().message);
  goal.cidrBlock = *block;
  auto vips = parseVips(a.vips);
  if (!vips.ok()) return fail(vips.error().message);
  goal.vips = *vips;
  goal.instanceId = a.instanceId;
  goal.vpcId = a.vpcId;
  goal.availabilityZone = a.az;
  goal.securityGroupIds = a.sgs;
  goal.tags.instance = a.tagSuffix;
  if (auto st = tk::fillIdentityFromImds(*stack.imds, goal); !st.ok()) {
    return fail("need --instance-id, --vpc-id, --az and --sg (IMDS: " + st.error().message + ")");
  }
  SteadyClock clock;
  tk::TakeoverExecutor exec(*stack.ec2, clock, stack.sleeper);
  auto tl = exec.startTimeline(dry ? "flb-ec2 takeover-dryrun" : "flb-ec2 takeover");
  if (dry) {
    auto plan = exec.plan(goal, tl);
    printCalls(tl);
    if (!plan.ok()) return fail(plan.error().message);
    for (const auto& s : plan->steps)
      std::printf("step %s%s\n", tk::describeStep(s).c_str(), s.critical ? "" : " (deferred)");
    return 0;
  }
  auto r = exec.run(goal, tl, [] { return true; });
  printCalls(tl);
  std::printf("timeline %s\n", tl.json().c_str());
  if (!r.ok()) return fail(r.error().message);
  std::printf("context subnet=%s eni=%s mac=%s ip=%s routetable=%s\n", r->context.subnetId.c_str(),
              r->context.eniId.c_str(), r->context.eniMac.c_str(), r->context.eniPrimaryIp.c_str(),
              r->context.routeTableId.c_str());
  return 0;
}

// flb-ec2 check: DryRun of every call the mode needs, and what the VPC still lacks. Exit 1 if
// anything is denied or missing.
int runCheck(aws::AwsStack& stack, const Args& a) {
  auto block = Cidr::parse(a.cidr);
  if (!block) return fail("--cidr: " + block.error().message);
  std::vector<tk::DryRunCall> calls;
  std::vector<std::string> findings;
  SteadyClock clock;
  if (a.mode == "routed") {
    tk::RoutedGoal g;
    g.instanceId = a.instanceId;
    g.vpcId = a.vpcId;
    g.availabilityZone = a.az;
    g.securityGroupIds = a.sgs;
    g.eniId = a.eniId;
    g.cidrBlock = *block;
    g.vipAz = a.vipAz;
    g.peerIps = a.peers;
    g.tags.instance = a.tagSuffix;
    if (auto st = tk::fillRoutedIdentity(*stack.imds, g); !st.ok()) {
      return fail("need --instance-id, --vpc-id, --az and --eni (IMDS: " + st.error().message + ")");
    }
    auto vips = parseVips(a.vips);
    if (!vips.ok()) return fail(vips.error().message);
    g.vips = *vips;
    tk::RoutedExecutor exec(*stack.ec2, clock, stack.sleeper);
    auto tl = exec.startTimeline("check");
    auto obs = exec.observe(g, tl);
    if (!obs.ok()) return fail("observe: " + obs.error().message);
    findings = tk::routedFindings(g, *obs);
    auto plan = tk::planRoutedPrepare(g, *obs);
    calls = tk::routedDryRunCalls(g, *obs, plan.ok() ? *plan : tk::RoutedPlan{});
  } else if (a.mode == "subnet") {
    const std::string s = block->str();
    for (const char* action : {"DescribeNetworkInterfaces", "DescribeSubnets", "DescribeAddresses",
                               "DescribeVpcs", "DescribeInternetGateways", "DescribeRouteTables"}) {
      calls.push_back({action, {}});
    }
    tk::TakeoverGoal base;
    base.vpcId = a.vpcId;
    if (auto st = tk::fillIdentityFromImds(*stack.imds, base); !st.ok())
      return fail("identity: " + st.error().message);
    calls.push_back({"CreateSubnet", {{"VpcId", base.vpcId}, {"CidrBlock", s}}});
    calls.push_back({"CreateRouteTable", {{"VpcId", base.vpcId}}});
  } else {
    return fail("--mode: expected routed or subnet");
  }
  int bad = 0;
  for (const auto& f : findings) {
    std::printf("lacks %s\n", f.c_str());
    ++bad;
  }
  for (const auto& c : calls) {
    auto r = stack.ec2->dryRun(c.action, c.params);
    if (r.ok()) {
      std::printf("dryrun %-32s allowed\n", c.action.c_str());
    } else if (r.error().is("UnauthorizedOperation")) {
      std::printf("dryrun %-32s DENIED (%s)\n", c.action.c_str(), r.error().code.c_str());
      ++bad;
    } else {
      // Authorised (IAM is checked first) but the example parameters were refused, or no DryRun support.
      std::printf("dryrun %-32s allowed? %s\n", c.action.c_str(), tk::awsText(r.error()).c_str());
    }
  }
  std::printf("check %s: %s\n", a.mode.c_str(),
              bad == 0 ? "ready" : (std::to_string(bad) + " problem(s)").c_str());
  return bad == 0 ? 0 : 1;
}

template <class T, class Print>
int printAll(const aws::AwsResult<std::vector<T>>& r, Print&& print) {
  if (!r.ok()) return fail(r.error().str());
  for (const auto& x : *r) print(x);
  return 0;
}

int runDescribe(aws::Ec2Client& ec2, const std::string& cmd, const Args& a) {
  const auto f = parseFilters(a.filters);
  if (cmd == "describe-addresses") {
    return printAll(ec2.describeAddresses(f, a.publicIps), [](const aws::Address& x) {
      std::printf("%s %s assoc=%s eni=%s priv=%s tags=%s\n", x.publicIp.c_str(), x.allocationId.c_str(),
                  x.associationId.c_str(), x.networkInterfaceId.c_str(), x.privateIpAddress.c_str(),
                  tagText(x.tags).c_str());
    });
  }
  if (cmd == "describe-network-interfaces") {
    return printAll(ec2.describeNetworkInterfaces(f), [](const aws::NetworkInterface& e) {
      const std::string att =
          e.attachment ? e.attachment->instanceId + "#" + std::to_string(e.attachment->deviceIndex) : "-";
      std::printf("%s %s %s %s %s attach=%s srcdst=%d ips=%zu tags=%s\n", e.networkInterfaceId.c_str(),
                  e.status.c_str(), e.subnetId.c_str(), e.availabilityZone.c_str(),
                  e.privateIpAddress.c_str(), att.c_str(), e.sourceDestCheck ? 1 : 0,
                  e.privateIpAddresses.size(), tagText(e.tags).c_str());
    });
  }
  if (cmd == "describe-subnets") {
    return printAll(ec2.describeSubnets(f), [](const aws::Subnet& s) {
      std::printf("%s %s %s %s tags=%s\n", s.subnetId.c_str(), s.vpcId.c_str(), s.cidrBlock.c_str(),
                  s.availabilityZone.c_str(), tagText(s.tags).c_str());
    });
  }
  if (cmd == "describe-vpcs") {
    return printAll(ec2.describeVpcs(f), [](const aws::Vpc& v) {
      std::printf("%s %s", v.vpcId.c_str(), v.cidrBlock.c_str());
      for (const auto& x : v.cidrBlockAssociations)
        std::printf(" %s(%s)", x.cidrBlock.c_str(), x.state.c_str());
      std::printf("\n");
    });
  }
  if (cmd == "describe-route-tables") {
    return printAll(ec2.describeRouteTables(f), [](const aws::RouteTable& t) {
      std::printf("%s %s assoc=%zu routes=%zu tags=%s\n", t.routeTableId.c_str(), t.vpcId.c_str(),
                  t.associations.size(), t.routes.size(), tagText(t.tags).c_str());
    });
  }
  if (cmd == "describe-internet-gateways") {
    return printAll(ec2.describeInternetGateways(f), [](const aws::InternetGateway& g) {
      std::printf("%s attachments=%zu\n", g.internetGatewayId.c_str(), g.attachments.size());
    });
  }
  return printAll(ec2.describeInstances(f, a.instanceIds), [](const aws::Instance& i) {
    std::printf("%s %s %s %s %s\n", i.instanceId.c_str(), i.state.c_str(), i.availabilityZone.c_str(),
                i.subnetId.c_str(), i.privateIpAddress.c_str());
  });
}

constexpr const char* kFooter =
    R"(--stats prints "stats calls=N attempts=N retries=N rate-limit-waits=N" to stderr after EC2 commands.
environment: AWS_REGION, AWS_ENDPOINT_URL_EC2/AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
  AWS_SESSION_TOKEN (else instance profile), AWS_EC2_METADATA_SERVICE_ENDPOINT)";

}  // namespace

int runFlbEc2(int argc, char** argv) {
  Args a;
  CLI::App app{"flb-ec2: one EC2 call, the IMDS view, or the floatlb takeover (docs/cloud.md)", "flb-ec2"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the command too
  app.add_option("--endpoint", a.endpoint, "EC2 endpoint URL");
  app.add_option("--region", a.region, "AWS region");
  app.add_flag("--debug", a.debug, "debug logging");
  app.add_flag("--stats", a.stats, "print the client's call statistics to stderr");
  const char* describes[] = {
      "describe-addresses",    "describe-network-interfaces", "describe-subnets",  "describe-vpcs",
      "describe-route-tables", "describe-internet-gateways",  "describe-instances"};
  for (const char* name : describes) {
    auto* sub = app.add_subcommand(name, std::string("EC2 ") + name);
    sub->add_option("--filter", a.filters, "NAME=V1,V2 (repeatable)");
    if (std::string(name) == "describe-addresses")
      sub->add_option("--public-ip", a.publicIps, "(repeatable)");
    if (std::string(name) == "describe-instances")
      sub->add_option("--instance-id", a.instanceIds, "(repeatable)");
  }
  app.add_subcommand("imds", "this instance's metadata and role credentials (IMDSv2; no secret printed)");
  for (const char* name : {"takeover-dryrun", "takeover"}) {
    auto* sub =
        app.add_subcommand(name, std::string(name) == "takeover" ? "run the takeover (mutates EC2!)"
                                                                 : "observe and print the takeover plan");
    sub->add_option("--cidr", a.cidr, "VIP block (--cloudcidrblock)")->required();
    sub->add_option("--vip", a.vips, "PRIV[=EIP] (repeatable)");
    sub->add_option("--instance-id", a.instanceId, "(default: IMDS)");
    sub->add_option("--vpc-id", a.vpcId, "(default: IMDS)");
    sub->add_option("--az", a.az, "(default: IMDS)");
    sub->add_option("--sg", a.sgs, "security group (repeatable; default: IMDS)");
    sub->add_option("--tag-suffix", a.tagSuffix, "suffix of the tag values (--cloudinstance)");
  }
  auto* check =
      app.add_subcommand("check", "DryRun every call the mode needs; print what the VPC still lacks");
  check->add_option("--mode", a.mode, "routed (default) | subnet");
  check->add_option("--cidr", a.cidr, "VIP block (--cloudcidrblock)")->required();
  check->add_option("--vip", a.vips, "PRIV[=EIP] (repeatable)");
  check->add_option("--peer", a.peers, "the peers' primary private IPs (repeatable)");
  check->add_option("--eni", a.eniId, "my primary ENI (default: IMDS)");
  check->add_option("--vip-az", a.vipAz, "AZ of the VIP subnet (default: one hosting no LB)");
  check->add_option("--instance-id", a.instanceId, "(default: IMDS)");
  check->add_option("--vpc-id", a.vpcId, "(default: IMDS)");
  check->add_option("--az", a.az, "(default: IMDS)");
  check->add_option("--tag-suffix", a.tagSuffix, "suffix of the tag values (--cloudinstance)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const std::string cmd = app.get_subcommands().front()->get_name();
  log::setLevel(a.debug ? log::Level::kDebug : log::Level::kWarn);
  SteadyClock clock;
  auto stack = aws::makeAwsStack(aws::processEnv(), {a.endpoint, a.region, cmd != "imds"}, clock);
  if (!stack.ok()) return fail(stack.error().message);
  if (cmd == "imds") return runImds(*(*stack)->imds);
  aws::Ec2Client& ec2 = *(*stack)->ec2;
  const int rc = cmd == "check"                  ? runCheck(**stack, a)
                 : cmd.rfind("takeover", 0) == 0 ? runTakeover(**stack, a, cmd == "takeover-dryrun")
                                                 : runDescribe(ec2, cmd, a);
  if (a.stats) {
    const aws::Ec2CallStats st = ec2.stats();
    std::fprintf(stderr, "stats calls=%llu attempts=%llu retries=%llu rate-limit-waits=%llu\n",
                 static_cast<unsigned long long>(st.calls), static_cast<unsigned long long>(st.attempts),
                 static_cast<unsigned long long>(st.retries),
                 static_cast<unsigned long long>(st.rateLimitWaits));
  }
  return rc;
}

}  // namespace floatlb::cloud::tool
