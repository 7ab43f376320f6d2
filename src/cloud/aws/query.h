// EC2 Query API request encoding (pure). Builds the x-www-form-urlencoded body exactly as botocore
// does: "Action=...&Version=2016-11-15&..." with lists flattened to Name.N, filters to
// Filter.N.Name / Filter.N.Value.M and tag specifications to TagSpecification.N.Tag.M.Key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloud/aws/ec2_types.h"

namespace floatlb::cloud::aws {

class QueryParams {
 public:
  explicit QueryParams(std::string action, std::string version = kEc2ApiVersion);

  QueryParams& set(std::string key, std::string value);
  QueryParams& setBool(std::string key, bool value);  // "true" / "false"
  QueryParams& setInt(std::string key, int64_t value);
  // Skips the parameter when value is empty (optional string members).
  QueryParams& setOptional(std::string key, const std::string& value);
  // key.1=v1&key.2=v2 ...
  QueryParams& setList(const std::string& key, const std::vector<std::string>& values);
  // Filter.N.Name / Filter.N.Value.M
  QueryParams& setFilters(const Filters& filters);
  // prefix.N.Key / prefix.N.Value (CreateTags uses prefix "Tag")
  QueryParams& setTags(const std::string& prefix, const Tags& tags);
  // TagSpecification.N.ResourceType / TagSpecification.N.Tag.M.Key / .Value
  QueryParams& setTagSpecifications(const std::vector<TagSpecification>& specs);

  [[nodiscard]] const std::string& action() const { return action_; }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }
  // Returns the value of `key` or nullptr (tests, logging).
  [[nodiscard]] const std::string* find(std::string_view key) const;
  [[nodiscard]] std::string encode() const;

 private:
  std::string action_;
  std::vector<std::pair<std::string, std::string>> params_;  // includes Action and Version first
};

// The one percent-encoder (SigV4's uriEncode, formEncode, vpcsim): RFC 3986 unreserved characters
// kept, '/' kept unless encode_slash, ' ' -> '+' if space_as_plus, everything else %XX (upper case).
std::string percentEncode(std::string_view s, bool encode_slash, bool space_as_plus);
// Decodes %XX (malformed escapes are kept literally) and, if plus_as_space, '+' -> ' '.
std::string percentDecode(std::string_view s, bool plus_as_space);

// application/x-www-form-urlencoded as Python's urlencode (quote_plus): unreserved kept, ' ' -> '+',
// everything else %XX. Identical to botocore's EC2 request bodies.
std::string formEncode(std::string_view s);
// Inverse of formEncode; returns key/value pairs in order (tests, fakes and vpcsim's request parser).
std::vector<std::pair<std::string, std::string>> formDecode(std::string_view body);

}  // namespace floatlb::cloud::aws
