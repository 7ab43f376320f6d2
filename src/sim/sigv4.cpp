#include "sim/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <vector>

namespace floatlb::sim::sigv4 {

std::string hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hex(std::string(reinterpret_cast<char*>(md), sizeof md));
}

std::string hmacSha256(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string uriEncode(const std::string& s, bool encode_slash) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

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
  for (const auto& [k, v] : r.query) {  // std::map: sorted by key
    query += (query.empty() ? "" : "&") + uriEncode(k) + "=" + uriEncode(v);
  }
  std::string headers;
  size_t pos = 0;
  while (pos <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', pos);
    if (semi == std::string::npos) semi = signed_headers.size();
    std::string name = signed_headers.substr(pos, semi - pos);
    auto it = r.headers.find(name);
    headers += name + ":" + (it == r.headers.end() ? "" : trimCollapse(it->second)) + "\n";
    pos = semi + 1;
  }
  auto payload = r.headers.find("x-amz-content-sha256");
  std::string payload_hash = payload != r.headers.end() ? payload->second : sha256Hex(r.body);
  return r.method + "\n" + uriEncode(r.path, false) + "\n" + query + "\n" + headers + "\n" + signed_headers +
         "\n" + payload_hash;
}

std::string signingKey(const std::string& secret, const std::string& date, const std::string& region,
                       const std::string& service) {
  std::string k = hmacSha256("AWS4" + secret, date);
  k = hmacSha256(k, region);
  k = hmacSha256(k, service);
  return hmacSha256(k, "aws4_request");
}

std::string signature(const Request& r, const std::string& signed_headers, const std::string& amz_date,
                      const std::string& scope, const std::string& key) {
  std::string sts =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256Hex(canonicalRequest(r, signed_headers));
  return hex(hmacSha256(key, sts));
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
  std::string scope = a.date + "/" + a.region + "/" + a.service + "/aws4_request";
  std::string want = signature(r, a.signed_headers, date->second, scope,
                               signingKey(secret->second, a.date, a.region, a.service));
  if (want != a.signature) {
    return apiError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method.",
        403);
  }
  return Unit{};
}

}  // namespace floatlb::sim::sigv4
