// Internal to flb_kubesim: helpers shared by the ApiServer translation units (apiserver*.cpp) and the
// request-parse result they pass around. Not part of the module's interface.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "kubesim/apiserver.h"

namespace floatlb::kubesim {

struct ApiServer::Parsed {
  const ResourceInfo* res = nullptr;
  std::string ns, name, sub;
  bool collection = true;
};

namespace apiserver_support {

extern const std::regex kDns1123Sub;
extern const std::regex kQualifiedName;
extern const char* kDns1123SubMsg;

std::string base64(const std::string& in);
std::optional<std::string> unbase64(const std::string& in);
bool parseBool(const std::string& v);
// The decoded query parameter `k` ("" when absent).
std::string q(const Request& r, const std::string& k);
// The name rule of a resource: "" when `name` is valid, else the real server's explanation.
std::string nameRule(const std::string& plural, const std::string& name);
// Field validation (`fieldValidation` = Strict | Warn (default) | Ignore): Strict ⇒ 400 "<prefix>strict
// decoding error: unknown field \"a\", …"; Warn ⇒ one warning per unknown field. Unknown fields are
// dropped, as decoding into the typed object does on a real server.
Status checkFields(const ResourceInfo& r, json& obj, const std::string& mode, const std::string& prefix,
                   std::vector<std::string>& warnings);
std::string keyFor(const json& o);
Response jsonResponse(int code, const json& body);
Response errorResponse(const Error& e);
bool wantsTable(const std::string& accept);
bool imageKnown(const std::vector<std::string>& pats, const std::string& image);
bool podReady(const json& pod);
json condition(const std::string& type, const std::string& status, const std::string& ts,
               const std::string& reason = "", const std::string& message = "");

}  // namespace apiserver_support
}  // namespace floatlb::kubesim
