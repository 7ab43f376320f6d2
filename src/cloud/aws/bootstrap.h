// makeAwsStack: the one place that turns the process environment (AWS_* variables, IMDS) into a
// working client stack — HTTP transport, IMDSv2 client, credentials provider, EC2 client — used by
// the daemon's cloud bridge and by flb-ec2 alike.
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/config.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "cloud/aws/http.h"
#include "cloud/aws/imds.h"
#include "cloud/aws/retry.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct AwsStackOverrides {
  std::string endpoint;  // EC2 endpoint (flb-ec2 --endpoint); empty: from the environment
  std::string region;    // (flb-ec2 --region); empty: environment, then IMDS
  bool ec2 = true;       // false: HTTP + IMDS only (no region or credentials needed)
};

// Members are declared in dependency order (destroyed in reverse).
struct AwsStack {
  AwsConfig config;
  RealSleeper sleeper;
  Mt19937Random random;
  std::unique_ptr<HttpTransport> http;
  std::unique_ptr<ImdsClient> imds;
  std::unique_ptr<CredentialsProvider> creds;
  std::unique_ptr<Ec2Client> ec2;  // null when !overrides.ec2
};

// `clock` must outlive the stack. Errors: no region anywhere (environment, override, IMDS).
Result<std::unique_ptr<AwsStack>> makeAwsStack(const EnvLookup& env, const AwsStackOverrides& overrides,
                                               const Clock& clock);

}  // namespace floatlb::cloud::aws
