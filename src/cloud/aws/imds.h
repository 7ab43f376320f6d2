// IMDSv2 client: session token (PUT /latest/api/token), metadata GETs with the token, refresh on
// 401 and before the token's TTL runs out, and instance-profile credentials.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "cloud/aws/credentials.h"
#include "cloud/aws/http.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct ImdsConfig {
  std::string endpoint = "http://169.254.169.254";  // AWS_EC2_METADATA_SERVICE_ENDPOINT overrides
  int tokenTtlSec = 21600;
  Duration refreshBefore = std::chrono::seconds(60);  // renew the token this long before its TTL
  Duration timeout = std::chrono::seconds(2);         // per HTTP call
  int maxAttempts = 3;                                // for 5xx / no response
};

// Per-ENI metadata (network/interfaces/macs/<mac>/...).
struct ImdsInterface {
  std::string mac;
  std::string interfaceId;
  std::string vpcId;
  std::string subnetId;
  std::string subnetCidr;  // subnet-ipv4-cidr-block
  std::vector<std::string> securityGroupIds;
  std::vector<std::string> localIpv4s;
  int deviceNumber = -1;
};

class ImdsClient {
 public:
  ImdsClient(HttpTransport& http, const Clock& clock, ImdsConfig config = {});

  // GET /latest/meta-data/<path>; trailing whitespace trimmed.
  Result<std::string> getMetadata(const std::string& path);
  Result<std::string> instanceId() { return getMetadata("instance-id"); }
  Result<std::string> availabilityZone() { return getMetadata("placement/availability-zone"); }
  Result<std::string> mac() { return getMetadata("mac"); }
  // Region from placement/region, else derived from the AZ ("eu-west-1a" -> "eu-west-1").
  Result<std::string> region();
  Result<ImdsInterface> interfaceInfo(const std::string& mac);
  Result<std::vector<std::string>> macs();  // network/interfaces/macs/
  // iam/security-credentials/ -> first role -> JSON document.
  Result<Credentials> instanceProfileCredentials();

  [[nodiscard]] const ImdsConfig& config() const { return config_; }

 private:
  Result<std::string> token(bool force_new);
  Result<HttpResponse> sendWithRetry(const HttpRequest& req);

  HttpTransport& http_;
  const Clock& clock_;
  ImdsConfig config_;
  std::mutex mu_;
  std::string token_;
  TimePoint token_expiry_{};
};

// Parses the IMDS security-credentials JSON ({"Code":"Success","AccessKeyId":..,"Expiration":..}).
Result<Credentials> parseImdsCredentialsJson(std::string_view json);

// Splits IMDS list output ('\n'-separated, directories end with '/') into entries without '/'.
std::vector<std::string> splitImdsList(std::string_view text);

}  // namespace floatlb::cloud::aws
