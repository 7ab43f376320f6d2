#include "cloud/aws/imds.h"

#include <nlohmann/json.hpp>

namespace floatlb::cloud::aws {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

std::vector<std::string> splitImdsList(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string item = trim(text.substr(pos, nl - pos));
    if (!item.empty() && item.back() == '/') item.pop_back();
    if (!item.empty()) out.push_back(item);
    pos = nl + 1;
  }
  return out;
}

Result<Credentials> parseImdsCredentialsJson(std::string_view json) {
  try {
    auto j = nlohmann::json::parse(json);
    if (j.contains("Code") && j["Code"].get<std::string>() != "Success") {
      return makeError(ErrorCode::kUnavailable, "IMDS credentials: Code=" + j["Code"].get<std::string>());
    }
    Credentials c;
    c.accessKeyId = j.at("AccessKeyId").get<std::string>();
    c.secretAccessKey = j.at("SecretAccessKey").get<std::string>();
    c.sessionToken = j.value("Token", "");
    if (j.contains("Expiration")) {
      FLB_ASSIGN_OR_RETURN(c.expiresEpochSec, parseIso8601Utc(j["Expiration"].get<std::string>()));
    }
    if (!c.valid()) return makeError(ErrorCode::kInternal, "IMDS credentials: empty key");
    return c;
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInternal, std::string("IMDS credentials JSON: ") + e.what());
  }
}

ImdsClient::ImdsClient(HttpTransport& http, const Clock& clock, ImdsConfig config)
    : http_(http), clock_(clock), config_(std::move(config)) {
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
}

Result<HttpResponse> ImdsClient::sendWithRetry(const HttpRequest& req) {
  Result<HttpResponse> last = makeError(ErrorCode::kInternal, "IMDS: no attempt");
  for (int attempt = 1; attempt <= std::max(1, config_.maxAttempts); ++attempt) {
    last = http_.send(req);
    if (last.ok() && last->status < 500) return last;
  }
  if (last.ok()) {
    return makeError(ErrorCode::kUnavailable, "IMDS " + req.url + ": HTTP " + std::to_string(last->status));
  }
  return last.error().wrap("IMDS");
}

Result<std::string> ImdsClient::token(bool force_new) {
  std::lock_guard lock(mu_);
  if (!force_new && !token_.empty() && clock_.now() + config_.refreshBefore < token_expiry_) return token_;
  HttpRequest req;
  req.method = "PUT";
  req.url = config_.endpoint + "/latest/api/token";
  req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(config_.tokenTtlSec));
  // An explicit empty body: some servers (cpp-httplib 0.11, i.e. vpcsim) answer 400 to a PUT without
  // Content-Length; real IMDS accepts both, botocore and the Go SDK send it too.
  req.headers.emplace_back("Content-Length", "0");
  req.timeout = config_.timeout;
  TimePoint asked_at = clock_.now();
  FLB_ASSIGN_OR_RETURN(HttpResponse resp, sendWithRetry(req));
  if (resp.status != 200 || resp.body.empty()) {
    token_.clear();
    return makeError(resp.status == 403 ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                     "IMDS token: HTTP " + std::to_string(resp.status));
  }
  token_ = trim(resp.body);
  token_expiry_ = asked_at + std::chrono::seconds(config_.tokenTtlSec);
  return token_;
}

Result<std::string> ImdsClient::getMetadata(const std::string& path) {
  // Two rounds: the second one with a fresh token if the first got 401 (token expired/revoked).
  for (int round = 0; round < 2; ++round) {
    FLB_ASSIGN_OR_RETURN(std::string tok, token(round > 0));
    HttpRequest req;
    req.method = "GET";
    req.url = config_.endpoint + "/latest/meta-data/" + path;
    req.headers.emplace_back("X-aws-ec2-metadata-token", tok);
    req.timeout = config_.timeout;
    FLB_ASSIGN_OR_RETURN(HttpResponse resp, sendWithRetry(req));
    if (resp.status == 200) return trim(resp.body);
    if (resp.status == 401) continue;
    ErrorCode code = resp.status == 404 ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    return makeError(code, "IMDS GET " + path + ": HTTP " + std::to_string(resp.status));
  }
  return makeError(ErrorCode::kPermissionDenied, "IMDS GET " + path + ": token rejected twice (401)");
}

Result<std::string> ImdsClient::region() {
  if (auto r = getMetadata("placement/region"); r.ok() && !r->empty()) return r;
  FLB_ASSIGN_OR_RETURN(std::string az, availabilityZone());
  // "eu-west-1a" -> "eu-west-1"; local zones ("us-east-1-bos-1a") keep their parent region prefix.
  if (az.size() < 2) return makeError(ErrorCode::kInternal, "IMDS: bad availability zone '" + az + "'");
  return az.substr(0, az.size() - 1);
}

Result<std::vector<std::string>> ImdsClient::macs() {
  FLB_ASSIGN_OR_RETURN(std::string list, getMetadata("network/interfaces/macs/"));
  return splitImdsList(list);
}

Result<ImdsInterface> ImdsClient::interfaceInfo(const std::string& mac) {
  const std::string base = "network/interfaces/macs/" + mac + "/";
  ImdsInterface info;
  info.mac = mac;
  FLB_ASSIGN_OR_RETURN(info.vpcId, getMetadata(base + "vpc-id"));
  FLB_ASSIGN_OR_RETURN(info.subnetId, getMetadata(base + "subnet-id"));
  FLB_ASSIGN_OR_RETURN(info.subnetCidr, getMetadata(base + "subnet-ipv4-cidr-block"));
  FLB_ASSIGN_OR_RETURN(std::string dev, getMetadata(base + "device-number"));
  try {
    info.deviceNumber = std::stoi(dev);
  } catch (const std::exception&) {
    return makeError(ErrorCode::kInternal, "IMDS device-number is not a number: " + dev);
  }
  // Optional entries: an ENI without SGs or secondary IPs answers 404 on some emulators.
  if (auto id = getMetadata(base + "interface-id"); id.ok()) info.interfaceId = *id;
  if (auto sgs = getMetadata(base + "security-group-ids"); sgs.ok())
    info.securityGroupIds = splitImdsList(*sgs);
  if (auto ips = getMetadata(base + "local-ipv4s"); ips.ok()) info.localIpv4s = splitImdsList(*ips);
  return info;
}

Result<Credentials> ImdsClient::instanceProfileCredentials() {
  FLB_ASSIGN_OR_RETURN(std::string roles, getMetadata("iam/security-credentials/"));
  std::vector<std::string> names = splitImdsList(roles);
  if (names.empty()) return makeError(ErrorCode::kNotFound, "IMDS: no instance profile role");
  FLB_ASSIGN_OR_RETURN(std::string doc, getMetadata("iam/security-credentials/" + names.front()));
  return parseImdsCredentialsJson(doc);
}

}  // namespace floatlb::cloud::aws
