// Small value types shared by the vpcsim model and its front: the EC2 error (AWS code + message +
// HTTP status), Outcome<T> (= Result<T, ApiError>) carrying either a value or such an error, and the decoded
// request parameters of the EC2 Query protocol (flattened `Name.N.Sub` keys).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/net.h"
#include "common/result.h"

namespace floatlb::sim {

struct ApiError {
  std::string code;  // the AWS error code, e.g. "InvalidSubnet.Conflict"
  std::string message;
  int http_status = 400;
};

inline ApiError apiError(std::string code, std::string message, int http_status = 400) {
  return ApiError{std::move(code), std::move(message), http_status};
}

inline ApiError missing(const std::string& name) {
  return apiError("MissingParameter", "The request must contain the parameter " + name);
}

inline ApiError notFound(const std::string& code, const std::string& what, const std::string& id) {
  return apiError(code, "The " + what + " '" + id + "' does not exist");
}

// The project's Result with the EC2 error as E; FLB_TRY / FLB_ASSIGN_OR_RETURN propagate it.
template <class T>
using Outcome = Result<T, ApiError>;
using ApiStatus = Result<void, ApiError>;

inline Outcome<Ip4> parseIp(const std::string& text) {
  auto r = Ip4::parse(text);
  if (!r.ok()) return apiError("InvalidParameterValue", "Invalid IPv4 address: " + text);
  return r.value();
}

// Decoded Query parameters (already URL-decoded). Keys are case-sensitive, as on the wire.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, std::string> kv) : kv_(std::move(kv)) {}
  // Parses an application/x-www-form-urlencoded body ("a=1&b=x%20y").
  static Params parseForm(const std::string& body);

  void set(const std::string& k, const std::string& v) { kv_[k] = v; }
  [[nodiscard]] std::optional<std::string> get(const std::string& k) const;
  [[nodiscard]] std::string getOr(const std::string& k, const std::string& def) const;
  [[nodiscard]] bool has(const std::string& k) const { return kv_.count(k) != 0; }
  [[nodiscard]] bool flag(const std::string& k) const;  // "true" (any case) -> true
  // `Prefix.1`, `Prefix.2`, ... in index order (gaps end the list).
  [[nodiscard]] std::vector<std::string> list(const std::string& prefix) const;
  // Keys `Prefix.N.<rest>` grouped by N: returns one Params per N with the `<rest>` keys.
  [[nodiscard]] std::vector<Params> groups(const std::string& prefix) const;
  [[nodiscard]] const std::map<std::string, std::string>& all() const { return kv_; }

 private:
  std::map<std::string, std::string> kv_;
};

std::string urlDecode(const std::string& s);

struct Filter {
  std::string name;
  std::vector<std::string> values;
};
std::vector<Filter> parseFilters(const Params& p);  // Filter.N.Name / Filter.N.Value.M

using Tags = std::map<std::string, std::string>;
Tags parseTags(const Params& p, const std::string& prefix);  // <prefix>.N.Key / .Value
// TagSpecification.N.ResourceType + .Tag.M.Key/.Value, for the given resource type.
Tags parseTagSpecs(const Params& p, const std::string& resource_type);

// Glob match with '*' and '?', as EC2 filter values allow.
bool globMatch(const std::string& pattern, const std::string& text);

}  // namespace floatlb::sim
