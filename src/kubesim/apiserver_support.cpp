// Helpers shared by the ApiServer translation units (apiserver*.cpp): encoding, names, field checks,
// responses, pod predicates.
#include "kubesim/apiserver_support.h"

#include <openssl/evp.h>

#include <regex>

#include "kubesim/status.h"

namespace floatlb::kubesim::apiserver_support {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string& in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool parseBool(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

std::string q(const Request& r, const std::string& k) {
  auto it = r.query.find(k);
  return it == r.query.end() ? "" : it->second;
}

const std::regex kDns1123Label("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
const std::regex kDns1035Label("^[a-z]([-a-z0-9]*[a-z0-9])?$");
const std::regex kDns1123Sub("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
const std::regex kQualifiedName(
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/"
    ")?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");

const char* kDns1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1123SubMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

// The name rule of a resource: "" when `name` is valid, else the real server's explanation.
std::string nameRule(const std::string& plural, const std::string& name) {
  if (plural.find("role") != std::string::npos)  // RBAC: path segment names
    return name.find('/') != std::string::npos || name.find('%') != std::string::npos ? "may not contain '/'"
                                                                                      : "";
  struct Rule {
    const std::regex* re;
    size_t max;
    const char* msg;
  };
  Rule rule = plural == "services"     ? Rule{&kDns1035Label, 63, kDns1035Msg}
              : plural == "namespaces" ? Rule{&kDns1123Label, 63, kDns1123LabelMsg}
                                       : Rule{&kDns1123Sub, 253, kDns1123SubMsg};
  return name.size() > rule.max || !std::regex_match(name, *rule.re) ? rule.msg : "";
}

// Field validation (`fieldValidation` = Strict | Warn (default) | Ignore): Strict ⇒ 400 "<prefix>strict
// decoding error: unknown field \"a\", …"; Warn ⇒ one warning per unknown field. Unknown fields are
// dropped, as decoding into the typed object does on a real server.
Status checkFields(const ResourceInfo& r, json& obj, const std::string& mode, const std::string& prefix,
                   std::vector<std::string>& warnings) {
  std::string msg;
  auto unknown = unknownFields(r, obj);
  for (const auto& u : unknown) msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + u + "\"";
  if (mode == "Strict" && !msg.empty()) return badRequest(prefix + "strict decoding error: " + msg);
  for (const auto& u : unknown) {
    if (mode != "Ignore") warnings.push_back("unknown field \"" + u + "\"");
    eraseFieldPath(obj, u);
  }
  return okStatus();
}

std::string keyFor(const json& o) {
  return o["metadata"].value("namespace", "") + "/" + o["metadata"].value("name", "");
}

Response jsonResponse(int code, const json& body) {
  Response r;
  r.code = code;
  r.body = body.dump();
  return r;
}

Response errorResponse(const Error& e) {
  json s = statusOf(e);
  Response r = jsonResponse(httpCodeOf(s), s);
  if (r.code == 429 || r.code == 504) r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool wantsTable(const std::string& accept) { return accept.find("as=Table") != std::string::npos; }

bool imageKnown(const std::vector<std::string>& pats, const std::string& image) {
  for (const auto& p : pats) {
    if (!p.empty() && p.back() == '*') {
      if (image.rfind(p.substr(0, p.size() - 1), 0) == 0) return true;
    } else if (image == p) {
      return true;
    }
  }
  return false;
}

bool podReady(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

json condition(const std::string& type, const std::string& status, const std::string& ts,
               const std::string& reason, const std::string& message) {
  json c = {{"type", type}, {"status", status}, {"lastProbeTime", nullptr}, {"lastTransitionTime", ts}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace floatlb::kubesim::apiserver_support
