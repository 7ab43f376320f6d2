// AWS client configuration from the environment (region, EC2 endpoint, IMDS endpoint, credentials).
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/credentials.h"
#include "cloud/aws/imds.h"
#include "cloud/aws/retry.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct AwsConfig {
  std::string region;  // AWS_REGION, else AWS_DEFAULT_REGION (may be empty: ask IMDS)
  std::string
      endpoint;  // AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL, else https://ec2.<region>.amazonaws.com
  std::string imdsEndpoint;  // AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254
  RetryPolicy retry;
  bool rateLimit = true;  // client-side token buckets
};

// Reads the variables above. The endpoint is only derived from the region when both are known;
// call finalizeRegion() once the region is known (e.g. from IMDS).
AwsConfig loadAwsConfig(const EnvLookup& env);
// Sets region (if empty) and the default endpoint; Error if still no region.
Status finalizeRegion(AwsConfig& cfg, const std::string& region_fallback);
std::string defaultEc2Endpoint(const std::string& region);

// Static keys from the environment if set, else instance-profile credentials through `imds`
// (refreshed 5 min before expiry). `imds` and `clock` must outlive the provider.
std::unique_ptr<CredentialsProvider> makeDefaultCredentialsProvider(const EnvLookup& env, ImdsClient& imds,
                                                                    const Clock& clock);

}  // namespace floatlb::cloud::aws
