#include "cloud/aws/bootstrap.h"

namespace floatlb::cloud::aws {

Result<std::unique_ptr<AwsStack>> makeAwsStack(const EnvLookup& env, const AwsStackOverrides& overrides,
                                               const Clock& clock) {
  auto s = std::make_unique<AwsStack>();
  s->config = loadAwsConfig(env);
  if (!overrides.endpoint.empty()) s->config.endpoint = overrides.endpoint;
  if (!overrides.region.empty()) s->config.region = overrides.region;
  s->http = makeCurlTransport();
  ImdsConfig ic;
  if (!s->config.imdsEndpoint.empty()) ic.endpoint = s->config.imdsEndpoint;
  s->imds = std::make_unique<ImdsClient>(*s->http, clock, ic);
  if (!overrides.ec2) return s;
  std::string imds_region;
  if (s->config.region.empty()) imds_region = s->imds->region().valueOr("");
  FLB_TRY(finalizeRegion(s->config, imds_region));
  s->creds = makeDefaultCredentialsProvider(env, *s->imds, clock);
  s->ec2 = std::make_unique<Ec2Client>(
      Ec2ClientOptions{s->config.endpoint, s->config.region, s->config.retry, s->config.rateLimit},
      Ec2ClientDeps{*s->http, *s->creds, clock, s->sleeper, s->random});
  return s;
}

}  // namespace floatlb::cloud::aws
