// AWS Signature Version 4 (pure; HMAC/SHA-256 from common/crypto). See docs/cloud.md.
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

// ---- The signing core, shared by signV4 and vpcsim's server-side verifier (src/sim/sigv4) ----

struct CanonicalHeaders {
  std::string block;          // "name:value\n" per header, names lower-case and sorted
  std::string signedHeaders;  // "content-type;host;x-amz-date"
};
// Lower-cases names, trims/collapses values, sorts by name and joins repeated names with ','.
CanonicalHeaders canonicalHeaders(const HeaderList& headers);
// METHOD \n path \n canonical query \n headers \n signed headers \n payload hash (hex).
std::string canonicalRequest(std::string_view method, std::string_view raw_path, std::string_view raw_query,
                             const CanonicalHeaders& headers, std::string_view payload_sha256_hex);
// "YYYYMMDD/region/service/aws4_request"
std::string credentialScope(std::string_view date, std::string_view region, std::string_view service);
std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// Hex HMAC of the string to sign with the key derived from the secret and the scope's parts.
std::string signatureHex(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign);

// Building blocks (exposed for tests). Hashing/HMAC/hex live in common/crypto.h.
std::string sha256Hex(std::string_view data);
std::string deriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                             std::string_view service);
// RFC 3986 percent-encoding as SigV4 wants it (unreserved kept, everything else %XX upper case).
std::string uriEncode(std::string_view s, bool encode_slash);
// Splits, re-encodes and sorts a raw query string into SigV4's canonical form.
std::string canonicalQueryString(std::string_view raw_query);
// Seconds since the Unix epoch -> "YYYYMMDDThhmmssZ".
std::string amzDate(int64_t epoch_sec);

}  // namespace floatlb::cloud::aws
