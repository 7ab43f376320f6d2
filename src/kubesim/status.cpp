#include "kubesim/status.h"

namespace floatlb::kubesim {

namespace {
ErrorCode codeFor(int http) {
  switch (http) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 401:
    case 403:
      return ErrorCode::kPermissionDenied;
    case 429:
      return ErrorCode::kResourceExhausted;
    case 504:
      return ErrorCode::kTimeout;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return http >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}
}  // namespace

Error apiError(int code, const std::string& reason, const std::string& message, json details) {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.empty()) s["details"] = std::move(details);
  return Error{codeFor(code), s.dump()};
}

Error notFound(const std::string& resource, const std::string& group, const std::string& name) {
  json d = {{"name", name}, {"kind", resource}};
  if (!group.empty()) d["group"] = group;
  std::string what = group.empty() ? resource : resource + "." + group;
  return apiError(404, "NotFound", what + " \"" + name + "\" not found", d);
}

Error badRequest(const std::string& message) { return apiError(400, "BadRequest", message); }

Error invalid(const std::string& kind, const std::string& group, const std::string& name,
              const std::vector<Cause>& causes) {
  json d = {{"name", name}, {"kind", kind}, {"causes", json::array()}};
  if (!group.empty()) d["group"] = group;
  std::string joined;
  for (const auto& c : causes) {
    d["causes"].push_back({{"reason", c.type}, {"message", c.message}, {"field", c.field}});
    if (!joined.empty()) joined += ", ";
    joined += c.field + ": " + c.message;
  }
  std::string what = group.empty() ? kind : kind + "." + group;
  std::string msg =
      what + " \"" + name + "\" is invalid: " + (causes.size() > 1 ? "[" + joined + "]" : joined);
  return apiError(422, "Invalid", msg, d);
}

json statusOf(const Error& e) {
  json s = json::parse(e.message, nullptr, false);
  if (s.is_object() && s.value("kind", "") == "Status") return s;
  return json::parse(apiError(500, "InternalError", "Internal error occurred: " + e.message).message);
}

int httpCodeOf(const json& status) { return status.value("code", 500); }

}  // namespace floatlb::kubesim
