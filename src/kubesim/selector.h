// Label selectors (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`) and field selectors (`a=b,c!=d`, with the
// per-resource list of supported fields; anything else is 400 `field label not supported: X`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace floatlb::kubesim {

struct Requirement {
  enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists, kGt, kLt };
  std::string key;
  Op op = Op::kEq;
  std::vector<std::string> values;
};

struct LabelSelector {
  std::vector<Requirement> reqs;  // ANDed; empty matches everything
  [[nodiscard]] bool matches(const nlohmann::json& labels) const;
};

Result<LabelSelector> parseLabelSelector(const std::string& s);
// A `matchLabels`/`matchExpressions` object (Deployment spec.selector) or a plain map (Service selector).
LabelSelector selectorFromJson(const nlohmann::json& sel);

struct FieldSelector {
  struct Term {
    std::string field;
    bool equal = true;
    std::string value;
  };
  std::vector<Term> terms;
  [[nodiscard]] bool matches(const std::string& resource, const nlohmann::json& obj) const;
};

// Validates the fields against what `resource` supports (metadata.name/namespace everywhere).
Result<FieldSelector> parseFieldSelector(const std::string& resource, const std::string& s);

// The value a field selector compares for `field` on `obj` (e.g. "spec.nodeName").
std::string fieldValue(const nlohmann::json& obj, const std::string& field);

}  // namespace floatlb::kubesim
