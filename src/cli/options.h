// Declarative command-line parsing in the style of cobra/pflag (what loxicmd users type):
//   --name=value, --name value, -n value, -nvalue, boolean --flag / --flag=true|false,
//   list options repeatable and comma-separated (--tcp=80:8080,443:8443 --tcp=53:53),
//   "--" ends option parsing. Options may appear before, between or after positional words.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace floatlb::cli {

enum class OptKind { kFlag, kValue, kList };

struct OptSpec {
  std::string_view name;  // long name without "--"
  char short_name = 0;    // 0 = none
  OptKind kind = OptKind::kValue;
  std::string_view help;
};

class ParsedArgs {
 public:
  std::vector<std::string> positional;

  [[nodiscard]] bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  // Last value given for a kValue option (or "true"/"false" for a flag), or `fallback`.
  [[nodiscard]] std::string get(std::string_view name, std::string_view fallback = "") const;
  // All values of a kList option, comma-split, in command-line order.
  [[nodiscard]] std::vector<std::string> list(std::string_view name) const;
  [[nodiscard]] bool flag(std::string_view name) const { return get(name, "false") == "true"; }
  [[nodiscard]] std::vector<std::string> names() const;

  void add(const std::string& name, std::string value) { values_[name].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// Errors are kInvalidArgument with a one-line message ("unknown flag: --foo").
Result<ParsedArgs> parseArgs(std::span<const OptSpec> specs, const std::vector<std::string>& args);

}  // namespace floatlb::cli
