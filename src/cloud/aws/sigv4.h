// AWS Signature Version 4 (pure, OpenSSL HMAC/SHA-256). See docs/cloud.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace floatlb::cloud::aws {

struct Credentials {
  std::string accessKeyId;
  std::string secretAccessKey;
  std::string sessionToken;     // empty for long-term keys
  int64_t expiresEpochSec = 0;  // 0 = never expires (static keys)

  [[nodiscard]] bool valid() const { return !accessKeyId.empty() && !secretAccessKey.empty(); }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigningInput {
  std::string method = "POST";
  std::string host;        // exactly what goes into the Host header ("ec2.x.amazonaws.com", "127.0.0.1:8080")
  std::string path = "/";  // raw (un-encoded) path
  std::string query;       // raw query string without '?', e.g. "Action=ListUsers&Version=2010-05-08"
  HeaderList headers;      // extra headers to sign (e.g. Content-Type); host/x-amz-date are added
  std::string payload;
  std::string region;
  std::string service;
  std::string amzDate;  // "YYYYMMDDThhmmssZ"
};

struct Signature {
  std::string canonicalRequest;
  std::string stringToSign;
  std::string signedHeaders;  // "content-type;host;x-amz-date"
  std::string signature;      // hex
  std::string authorization;  // full Authorization header value
  HeaderList headersToAdd;    // X-Amz-Date, X-Amz-Security-Token (if any), Authorization
};

Signature signV4(const SigningInput& in, const Credentials& creds);

// Building blocks (exposed for tests).
std::string sha256Hex(std::string_view data);
std::string hmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string hexEncode(std::string_view raw);
std::string deriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                             std::string_view service);
// RFC 3986 percent-encoding as SigV4 wants it (unreserved kept, everything else %XX upper case).
std::string uriEncode(std::string_view s, bool encode_slash);
// Splits, re-encodes and sorts a raw query string into SigV4's canonical form.
std::string canonicalQueryString(std::string_view raw_query);
// Seconds since the Unix epoch -> "YYYYMMDDThhmmssZ".
std::string amzDate(int64_t epoch_sec);

}  // namespace floatlb::cloud::aws
