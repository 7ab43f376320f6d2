// A small AWS Signature Version 4 verifier for vpcsim's EC2 front (server side). The signing
// itself (canonical request, string to sign, key derivation) is exposed for tests.
#pragma once

#include <map>
#include <string>

#include "sim/api_types.h"

namespace floatlb::sim::sigv4 {

std::string sha256Hex(const std::string& data);
std::string hmacSha256(const std::string& key, const std::string& data);  // raw bytes
std::string hex(const std::string& bytes);
std::string uriEncode(const std::string& s, bool encode_slash = true);

struct Request {
  std::string method = "POST";
  std::string path = "/";
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

std::string canonicalRequest(const Request& r, const std::string& signed_headers);
std::string signingKey(const std::string& secret, const std::string& date, const std::string& region,
                       const std::string& service);
std::string signature(const Request& r, const std::string& signed_headers, const std::string& amz_date,
                      const std::string& scope, const std::string& key);

struct ParsedAuthorization {
  std::string access_key, date, region, service, signed_headers, signature;
};
Outcome<ParsedAuthorization> parseAuthorization(const std::string& header);

// Verifies the request's Authorization header against `credentials` (access key -> secret).
// Errors: MissingAuthenticationToken, IncompleteSignature, AuthFailure (unknown key),
// SignatureDoesNotMatch; HTTP 401/403 as AWS. `now_wall_ms` > 0 enables the 15-minute skew check
// (RequestExpired).
ApiStatus verify(const Request& r, const std::map<std::string, std::string>& credentials,
                 int64_t now_wall_ms = 0);

}  // namespace floatlb::sim::sigv4
