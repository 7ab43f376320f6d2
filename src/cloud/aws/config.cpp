#include "cloud/aws/config.h"

namespace floatlb::cloud::aws {

std::string defaultEc2Endpoint(const std::string& region) {
  if (region.rfind("cn-", 0) == 0) return "https://ec2." + region + ".amazonaws.com.cn";
  return "https://ec2." + region + ".amazonaws.com";
}

AwsConfig loadAwsConfig(const EnvLookup& env) {
  AwsConfig c;
  c.region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(""));
  if (auto e = env("AWS_ENDPOINT_URL_EC2")) {
    c.endpoint = *e;
  } else if (auto g = env("AWS_ENDPOINT_URL")) {
    c.endpoint = *g;
  } else if (!c.region.empty()) {
    c.endpoint = defaultEc2Endpoint(c.region);
  }
  c.imdsEndpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (c.endpoint.size() > 1 && c.endpoint.back() == '/') c.endpoint.pop_back();
  return c;
}

Status finalizeRegion(AwsConfig& cfg, const std::string& region_fallback) {
  if (cfg.region.empty()) cfg.region = region_fallback;
  if (cfg.region.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "no AWS region: set AWS_REGION or run on EC2 (IMDS)");
  }
  if (cfg.endpoint.empty()) cfg.endpoint = defaultEc2Endpoint(cfg.region);
  return okStatus();
}

std::unique_ptr<CredentialsProvider> makeDefaultCredentialsProvider(const EnvLookup& env, ImdsClient& imds,
                                                                    const Clock& clock) {
  if (auto c = credentialsFromEnv(env)) return std::make_unique<StaticCredentialsProvider>(*c);
  return std::make_unique<RefreshingCredentialsProvider>(
      [&imds] { return imds.instanceProfileCredentials(); }, clock);
}

}  // namespace floatlb::cloud::aws
