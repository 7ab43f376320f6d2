#include "cloud/aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace floatlb::cloud::aws {
namespace {

bool isUnreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

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

std::string hexEncode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hexEncode(std::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string deriveSigningKey(std::string_view secret, std::string_view date, std::string_view region,
                             std::string_view service) {
  std::string k = hmacSha256("AWS4" + std::string(secret), date);
  k = hmacSha256(k, region);
  k = hmacSha256(k, service);
  return hmacSha256(k, "aws4_request");
}

std::string uriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (isUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

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
      pairs.emplace_back(uriEncode(percentDecode(k), true), uriEncode(percentDecode(v), true));
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

Signature signV4(const SigningInput& in, const Credentials& creds) {
  // Canonical headers: caller's headers + host + x-amz-date (+ token), lower-cased and sorted.
  std::vector<std::pair<std::string, std::string>> hdrs;
  bool have_host = false;
  for (const auto& [k, v] : in.headers) {
    std::string lk = lower(k);
    if (lk == "authorization") continue;
    if (lk == "host") have_host = true;
    hdrs.emplace_back(lk, canonicalHeaderValue(v));
  }
  if (!have_host) hdrs.emplace_back("host", in.host);
  hdrs.emplace_back("x-amz-date", in.amzDate);
  if (!creds.sessionToken.empty()) hdrs.emplace_back("x-amz-security-token", creds.sessionToken);
  std::stable_sort(hdrs.begin(), hdrs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < hdrs.size(); ++i) {
    // Repeated header names are joined with ',' into one line.
    if (i > 0 && hdrs[i].first == hdrs[i - 1].first) {
      canonical_headers.pop_back();
      canonical_headers += "," + hdrs[i].second + "\n";
      continue;
    }
    canonical_headers += hdrs[i].first + ":" + hdrs[i].second + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += hdrs[i].first;
  }

  Signature s;
  std::string path = in.path.empty() ? "/" : in.path;
  s.canonicalRequest = in.method + "\n" + uriEncode(path, false) + "\n" + canonicalQueryString(in.query) +
                       "\n" + canonical_headers + "\n" + signed_headers + "\n" + sha256Hex(in.payload);
  std::string date = in.amzDate.substr(0, 8);
  std::string scope = date + "/" + in.region + "/" + in.service + "/aws4_request";
  s.stringToSign = "AWS4-HMAC-SHA256\n" + in.amzDate + "\n" + scope + "\n" + sha256Hex(s.canonicalRequest);
  std::string key = deriveSigningKey(creds.secretAccessKey, date, in.region, in.service);
  s.signature = hexEncode(hmacSha256(key, s.stringToSign));
  s.signedHeaders = signed_headers;
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.accessKeyId + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + s.signature;
  s.headersToAdd.emplace_back("X-Amz-Date", in.amzDate);
  if (!creds.sessionToken.empty()) s.headersToAdd.emplace_back("X-Amz-Security-Token", creds.sessionToken);
  s.headersToAdd.emplace_back("Authorization", s.authorization);
  return s;
}

}  // namespace floatlb::cloud::aws
