// flb-ec2: manual-testing tool for the floatlb AWS client. Runs one EC2 call, reads IMDS, or runs the
// loxilb-style takeover sequence (dry-run by default). Configuration comes from the usual AWS_*
// environment variables (see docs/cloud.md); never used by tests against real AWS.
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cloud/aws/config.h"
#include "cloud/aws/ec2_client.h"
#include "cloud/aws/imds.h"
#include "cloud/aws/takeover_sequence.h"
#include "common/log.h"

namespace aws = floatlb::cloud::aws;

namespace {

constexpr const char* kUsage =
    R"(usage: flb-ec2 [--endpoint URL] [--region R] [--debug] [--stats] COMMAND [options]

commands:
  describe-addresses [--public-ip IP]...        describe-network-interfaces [--filter NAME=V1,V2]...
  describe-subnets | describe-vpcs | describe-route-tables | describe-internet-gateways |
  describe-instances                            (all take --filter NAME=V1,V2)
  imds                                          print this instance's metadata and role credentials
                                                (IMDSv2; the secret key is never printed)
  takeover-dryrun --cidr C --vip PRIV[=EIP]...  show the takeover call sequence (Describe* only)
  takeover        --cidr C --vip PRIV[=EIP]...  run it (mutates EC2!)
      [--instance-id I --vpc-id V --az Z --sg SG... --tag-suffix N]  (missing values come from IMDS)
--stats prints "stats calls=N attempts=N retries=N rate-limit-waits=N" to stderr after EC2 commands.
environment: AWS_REGION, AWS_ENDPOINT_URL_EC2/AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
  AWS_SESSION_TOKEN (else instance profile), AWS_EC2_METADATA_SERVICE_ENDPOINT
)";

using Opts = std::multimap<std::string, std::string>;

std::string one(const Opts& o, const std::string& k) {
  auto it = o.find(k);
  return it == o.end() ? "" : it->second;
}
std::vector<std::string> all(const Opts& o, const std::string& k) {
  std::vector<std::string> v;
  for (auto [it, end] = o.equal_range(k); it != end; ++it) v.push_back(it->second);
  return v;
}
std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string::npos) c = s.size();
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}
aws::Filters filters(const Opts& o) {
  aws::Filters f;
  for (const auto& s : all(o, "filter")) {
    size_t eq = s.find('=');
    f.push_back({s.substr(0, eq),
                 eq == std::string::npos ? std::vector<std::string>{} : splitComma(s.substr(eq + 1))});
  }
  return f;
}
std::string tags(const aws::Tags& t) {
  std::string s;
  for (const auto& x : t) s += (s.empty() ? "" : ",") + x.key + "=" + x.value;
  return s.empty() ? "-" : s;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "flb-ec2: %s\n", what.c_str());
  return 1;
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

int runTakeover(aws::Ec2Api& ec2, aws::ImdsClient& imds, const Opts& o, bool dry) {
  aws::TakeoverParams p;
  p.cidrBlock = one(o, "cidr");
  if (p.cidrBlock.empty()) return fail("takeover needs --cidr");
  for (const auto& v : all(o, "vip")) {
    size_t eq = v.find('=');
    p.vips.push_back({v.substr(0, eq), eq == std::string::npos ? "" : v.substr(eq + 1)});
  }
  p.instanceId = one(o, "instance-id");
  p.vpcId = one(o, "vpc-id");
  p.availabilityZone = one(o, "az");
  p.securityGroupIds = all(o, "sg");
  if (!one(o, "tag-suffix").empty()) p.instanceTag = one(o, "tag-suffix");
  if (p.instanceId.empty()) p.instanceId = imds.instanceId().valueOr("");
  if (p.availabilityZone.empty()) p.availabilityZone = imds.availabilityZone().valueOr("");
  if (p.vpcId.empty() || p.securityGroupIds.empty()) {
    if (auto mac = imds.mac(); mac.ok()) {
      if (auto i = imds.interfaceInfo(*mac); i.ok()) {
        if (p.vpcId.empty()) p.vpcId = i->vpcId;
        if (p.securityGroupIds.empty()) p.securityGroupIds = i->securityGroupIds;
      }
    }
  }
  if (p.instanceId.empty() || p.vpcId.empty() || p.availabilityZone.empty()) {
    return fail("need --instance-id, --vpc-id and --az (IMDS not reachable)");
  }
  auto r =
      aws::runTakeoverSequence(ec2, p, dry, [] { std::this_thread::sleep_for(std::chrono::seconds(2)); });
  if (r.ok()) {
    for (const auto& s : r->steps) {
      std::printf("%-32s %-50s %s\n", s.action.c_str(), s.target.c_str(), s.result.c_str());
    }
    return 0;
  }
  return fail(r.error().message);
}

int runDescribe(aws::Ec2Client& ec2, const std::string& cmd, const Opts& o) {
  auto f = filters(o);
  auto err = [](const aws::AwsError& e) { return fail(e.str()); };
  if (cmd == "describe-addresses") {
    auto r = ec2.describeAddresses(f, all(o, "public-ip"));
    if (!r.ok()) return err(r.error());
    for (const auto& a : *r) {
      std::printf("%s %s assoc=%s eni=%s priv=%s tags=%s\n", a.publicIp.c_str(), a.allocationId.c_str(),
                  a.associationId.c_str(), a.networkInterfaceId.c_str(), a.privateIpAddress.c_str(),
                  tags(a.tags).c_str());
    }
  } else if (cmd == "describe-network-interfaces") {
    auto r = ec2.describeNetworkInterfaces(f);
    if (!r.ok()) return err(r.error());
    for (const auto& e : *r) {
      std::printf(
          "%s %s %s %s %s attach=%s srcdst=%d ips=%zu tags=%s\n", e.networkInterfaceId.c_str(),
          e.status.c_str(), e.subnetId.c_str(), e.availabilityZone.c_str(), e.privateIpAddress.c_str(),
          e.attachment ? (e.attachment->instanceId + "#" + std::to_string(e.attachment->deviceIndex)).c_str()
                       : "-",
          e.sourceDestCheck ? 1 : 0, e.privateIpAddresses.size(), tags(e.tags).c_str());
    }
  } else if (cmd == "describe-subnets") {
    auto r = ec2.describeSubnets(f);
    if (!r.ok()) return err(r.error());
    for (const auto& s : *r) {
      std::printf("%s %s %s %s tags=%s\n", s.subnetId.c_str(), s.vpcId.c_str(), s.cidrBlock.c_str(),
                  s.availabilityZone.c_str(), tags(s.tags).c_str());
    }
  } else if (cmd == "describe-vpcs") {
    auto r = ec2.describeVpcs(f);
    if (!r.ok()) return err(r.error());
    for (const auto& v : *r) {
      std::printf("%s %s", v.vpcId.c_str(), v.cidrBlock.c_str());
      for (const auto& a : v.cidrBlockAssociations)
        std::printf(" %s(%s)", a.cidrBlock.c_str(), a.state.c_str());
      std::printf("\n");
    }
  } else if (cmd == "describe-route-tables") {
    auto r = ec2.describeRouteTables(f);
    if (!r.ok()) return err(r.error());
    for (const auto& t : *r) {
      std::printf("%s %s assoc=%zu routes=%zu tags=%s\n", t.routeTableId.c_str(), t.vpcId.c_str(),
                  t.associations.size(), t.routes.size(), tags(t.tags).c_str());
    }
  } else if (cmd == "describe-internet-gateways") {
    auto r = ec2.describeInternetGateways(f);
    if (!r.ok()) return err(r.error());
    for (const auto& g : *r)
      std::printf("%s attachments=%zu\n", g.internetGatewayId.c_str(), g.attachments.size());
  } else if (cmd == "describe-instances") {
    auto r = ec2.describeInstances(f, all(o, "instance-id"));
    if (!r.ok()) return err(r.error());
    for (const auto& i : *r) {
      std::printf("%s %s %s %s %s\n", i.instanceId.c_str(), i.state.c_str(), i.availabilityZone.c_str(),
                  i.subnetId.c_str(), i.privateIpAddress.c_str());
    }
  } else {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd;
  Opts o;
  bool debug = false;
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--debug") {
      debug = true;
    } else if (a == "--stats") {
      stats = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      o.emplace(a.substr(2), argv[++i]);
    } else if (cmd.empty() && a.rfind("--", 0) != 0) {
      cmd = a;
    } else {
      return fail("unexpected argument '" + a + "' (try --help)");
    }
  }
  if (cmd.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  floatlb::log::setLevel(debug ? floatlb::log::Level::kDebug : floatlb::log::Level::kWarn);

  auto env = aws::processEnv();
  aws::AwsConfig cfg = aws::loadAwsConfig(env);
  if (!one(o, "endpoint").empty()) cfg.endpoint = one(o, "endpoint");
  if (!one(o, "region").empty()) cfg.region = one(o, "region");
  floatlb::SteadyClock clock;
  auto http = aws::makeCurlTransport();
  aws::ImdsConfig icfg;
  icfg.endpoint = cfg.imdsEndpoint;
  aws::ImdsClient imds(*http, clock, icfg);
  if (cmd == "imds") return runImds(imds);

  std::string imds_region;
  if (cfg.region.empty()) imds_region = imds.region().valueOr("");
  if (auto s = aws::finalizeRegion(cfg, imds_region); !s.ok()) return fail(s.error().message);
  auto creds = aws::makeDefaultCredentialsProvider(env, imds, clock);
  aws::RealSleeper sleeper;
  aws::Mt19937Random rnd;
  aws::Ec2Client ec2(aws::Ec2ClientOptions{cfg.endpoint, cfg.region, cfg.retry, cfg.rateLimit},
                     aws::Ec2ClientDeps{*http, *creds, clock, sleeper, rnd});
  int rc = cmd == "takeover-dryrun" || cmd == "takeover" ? runTakeover(ec2, imds, o, cmd == "takeover-dryrun")
                                                         : runDescribe(ec2, cmd, o);
  if (stats) {
    aws::Ec2CallStats st = ec2.stats();
    std::fprintf(stderr, "stats calls=%llu attempts=%llu retries=%llu rate-limit-waits=%llu\n",
                 static_cast<unsigned long long>(st.calls), static_cast<unsigned long long>(st.attempts),
                 static_cast<unsigned long long>(st.retries),
                 static_cast<unsigned long long>(st.rateLimitWaits));
  }
  return rc;
}
