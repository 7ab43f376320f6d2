#include "sim/sigv4.h"

#include <cstdlib>
#include <ctime>
#include <vector>

#include "cloud/aws/query.h"
#include "common/crypto.h"

namespace floatlb::sim::sigv4 {

namespace aws = cloud::aws;

static std::string trimCollapse(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

std::string canonicalRequest(const Request& r, const std::string& signed_headers) {
  std::string query;
  for (const auto& [k, v] : r.query) {
    query += (query.empty() ? "" : "&") + aws::uriEncode(k, true) + "=" + aws::uriEncode(v, true);
  }
  aws::HeaderList headers;
  size_t pos = 0;
  while (pos <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', pos);
    if (semi == std::string::npos) semi = signed_headers.size();
    std::string name = signed_headers.substr(pos, semi - pos);
    auto it = r.headers.find(name);
    headers.emplace_back(name, it == r.headers.end() ? "" : it->second);
    pos = semi + 1;
  }
  auto payload = r.headers.find("x-amz-content-sha256");
  std::string payload_hash = payload != r.headers.end() ? payload->second : aws::sha256Hex(r.body);
  return aws::canonicalRequest(r.method, r.path, query, aws::canonicalHeaders(headers), payload_hash);
}

Outcome<ParsedAuthorization> parseAuthorization(const std::string& header) {
  const std::string kAlg = "AWS4-HMAC-SHA256 ";
  if (header.rfind(kAlg, 0) != 0) {
    return apiError("IncompleteSignature", "Unsupported authorization scheme (expecting AWS4-HMAC-SHA256)",
                    400);
  }
  ParsedAuthorization a;
  std::string rest = header.substr(kAlg.size());
  std::string credential;
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string::npos) comma = rest.size();
    std::string part = trimCollapse(rest.substr(pos, comma - pos));
    size_t eq = part.find('=');
    if (eq != std::string::npos) {
      std::string k = part.substr(0, eq), v = part.substr(eq + 1);
      if (k == "Credential") credential = v;
      if (k == "SignedHeaders") a.signed_headers = v;
      if (k == "Signature") a.signature = v;
    }
    pos = comma + 1;
  }
  std::vector<std::string> scope;
  pos = 0;
  while (pos <= credential.size() && !credential.empty()) {
    size_t slash = credential.find('/', pos);
    if (slash == std::string::npos) slash = credential.size();
    scope.push_back(credential.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request" || a.signed_headers.empty() || a.signature.empty()) {
    return apiError("IncompleteSignature",
                    "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
                    400);
  }
  a.access_key = scope[0];
  a.date = scope[1];
  a.region = scope[2];
  a.service = scope[3];
  return a;
}

static int64_t parseAmzDateMs(const std::string& d) {  // YYYYMMDDTHHMMSSZ
  std::tm tm{};
  if (d.size() != 16 || strptime(d.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

ApiStatus verify(const Request& r, const std::map<std::string, std::string>& credentials,
                 int64_t now_wall_ms) {
  auto auth = r.headers.find("authorization");
  if (auth == r.headers.end()) {
    return apiError("MissingAuthenticationToken", "Request is missing Authentication Token", 401);
  }
  auto parsed = parseAuthorization(auth->second);
  if (!parsed.ok()) return parsed.error();
  const auto& a = parsed.value();
  auto secret = credentials.find(a.access_key);
  if (secret == credentials.end()) {
    return apiError("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
  }
  auto date = r.headers.find("x-amz-date");
  if (date == r.headers.end()) {
    return apiError("IncompleteSignature",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a "
                    "'Date' header.",
                    400);
  }
  if (now_wall_ms > 0) {
    int64_t t = parseAmzDateMs(date->second);
    if (t < 0 || std::llabs(t - now_wall_ms) > 15 * 60 * 1000) {
      return apiError("RequestExpired", "Request has expired.", 400);
    }
  }
  std::string scope = aws::credentialScope(a.date, a.region, a.service);
  std::string want =
      aws::signatureHex(secret->second, a.date, a.region, a.service,
                        aws::stringToSign(date->second, scope, canonicalRequest(r, a.signed_headers)));
  if (!crypto::constantTimeEqual(want, a.signature)) {
    return apiError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method.",
        403);
  }
  return {};
}

}  // namespace floatlb::sim::sigv4
