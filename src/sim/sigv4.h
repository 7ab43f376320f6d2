// vpcsim's server-side AWS Signature Version 4 verifier for the EC2 front. The algorithm itself
// (canonical request, string to sign, key derivation) is the client's, src/cloud/aws/sigv4.h: the
// verifier only rebuilds the request as the client saw it and compares signatures.
#pragma once

#include <map>
#include <string>

#include "cloud/aws/sigv4.h"
#include "sim/api_types.h"

namespace floatlb::sim::sigv4 {

using cloud::aws::sha256Hex;

struct Request {
  std::string method = "POST";
  std::string path = "/";
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// The canonical request for the headers named in `signed_headers` ("content-type;host;x-amz-date").
std::string canonicalRequest(const Request& r, const std::string& signed_headers);

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
