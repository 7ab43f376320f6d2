#include "cloud/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "cloud/aws/query.h"
#include "common/crypto.h"

namespace floatlb::cloud::aws {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Trims and collapses runs of spaces, as SigV4 canonical headers require.
std::string canonicalHeaderValue(std::string_view v) {
  std::string out;
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string sha256Hex(std::string_view data) { return crypto::toHex(crypto::sha256(data)); }

std::string deriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                             std::string_view service) {
  std::string k = crypto::hmacSha256("AWS4" + std::string(secret), date);
  k = crypto::hmacSha256(k, region);
  k = crypto::hmacSha256(k, service);
  return crypto::hmacSha256(k, "aws4_request");
}

std::string uriEncode(std::string_view s, bool encode_slash) { return percentEncode(s, encode_slash, false); }

std::string canonicalQueryString(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t pos = 0;
  while (pos <= raw_query.size() && !raw_query.empty()) {
    size_t amp = raw_query.find('&', pos);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view part = raw_query.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      pairs.emplace_back(uriEncode(percentDecode(k, false), true), uriEncode(percentDecode(v, false), true));
    }
    pos = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

std::string amzDate(int64_t epoch_sec) {
  std::time_t t = static_cast<std::time_t>(epoch_sec);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

CanonicalHeaders canonicalHeaders(const HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> hdrs;
  hdrs.reserve(headers.size());
  for (const auto& [k, v] : headers) hdrs.emplace_back(lower(k), canonicalHeaderValue(v));
  std::stable_sort(hdrs.begin(), hdrs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < hdrs.size(); ++i) {
    // Repeated header names are joined with ',' into one line.
    if (i > 0 && hdrs[i].first == hdrs[i - 1].first) {
      out.block.pop_back();
      out.block += "," + hdrs[i].second + "\n";
      continue;
    }
    out.block += hdrs[i].first + ":" + hdrs[i].second + "\n";
    if (!out.signedHeaders.empty()) out.signedHeaders.push_back(';');
    out.signedHeaders += hdrs[i].first;
  }
  return out;
}

std::string canonicalRequest(std::string_view method, std::string_view raw_path, std::string_view raw_query,
                             const CanonicalHeaders& headers, std::string_view payload_sha256_hex) {
  std::string out(method);
  out.append("\n") += uriEncode(raw_path.empty() ? "/" : raw_path, false) + "\n" + canonicalQueryString(raw_query) +
         "\n" + headers.block + "\n" + headers.signedHeaders + "\n";
  out += payload_sha256_hex;
  return out;
}

std::string credentialScope(std::string_view date, std::string_view region, std::string_view service) {
  std::string s(date);
  s += "/";
  s += region;
  s += "/";
  s += service;
  return s + "/aws4_request";
}

std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string s = "AWS4-HMAC-SHA256\n";
  s += amz_date;
  s += "\n";
  s += scope;
  return s + "\n" + sha256Hex(canonical_request);
}

std::string signatureHex(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign) {
  return crypto::toHex(crypto::hmacSha256(deriveSigningKey(secret, date, region, service), string_to_sign));
}

Signature signV4(const SigningInput& in, const Credentials& creds) {
  // Canonical headers: caller's headers + host + x-amz-date (+ token).
  HeaderList hdrs;
  bool have_host = false;
  for (const auto& [k, v] : in.headers) {
    std::string lk = lower(k);
    if (lk == "authorization") continue;
    if (lk == "host") have_host = true;
    hdrs.emplace_back(k, v);
  }
  if (!have_host) hdrs.emplace_back("host", in.host);
  hdrs.emplace_back("x-amz-date", in.amzDate);
  if (!creds.sessionToken.empty()) hdrs.emplace_back("x-amz-security-token", creds.sessionToken);
  CanonicalHeaders ch = canonicalHeaders(hdrs);

  Signature s;
  s.canonicalRequest = canonicalRequest(in.method, in.path, in.query, ch, sha256Hex(in.payload));
  std::string date = in.amzDate.substr(0, 8);
  std::string scope = credentialScope(date, in.region, in.service);
  s.stringToSign = stringToSign(in.amzDate, scope, s.canonicalRequest);
  s.signature = signatureHex(creds.secretAccessKey, date, in.region, in.service, s.stringToSign);
  s.signedHeaders = ch.signedHeaders;
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.accessKeyId + "/" + scope +
                    ", SignedHeaders=" + ch.signedHeaders + ", Signature=" + s.signature;
  s.headersToAdd.emplace_back("X-Amz-Date", in.amzDate);
  if (!creds.sessionToken.empty()) s.headersToAdd.emplace_back("X-Amz-Security-Token", creds.sessionToken);
  s.headersToAdd.emplace_back("Authorization", s.authorization);
  return s;
}

}  // namespace floatlb::cloud::aws
