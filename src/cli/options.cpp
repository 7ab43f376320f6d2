#include "cli/options.h"

namespace floatlb::cli {
namespace {

const OptSpec* findLong(std::span<const OptSpec> specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const OptSpec* findShort(std::span<const OptSpec> specs, char c) {
  for (const auto& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

Result<std::string> flagValue(std::string_view text, std::string_view name) {
  if (text == "true" || text == "1") return std::string("true");
  if (text == "false" || text == "0") return std::string("false");
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid value \"" + std::string(text) + "\" for flag --" + std::string(name));
}

}  // namespace

std::string ParsedArgs::get(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> ParsedArgs::list(std::string_view name) const {
  std::vector<std::string> out;
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return out;
  for (const auto& v : it->second) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

std::vector<std::string> ParsedArgs::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : values_) out.push_back(k);
  return out;
}

Result<ParsedArgs> parseArgs(std::span<const OptSpec> specs, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      parsed.positional.push_back(a);
      continue;
    }
    const OptSpec* spec = nullptr;
    std::string inline_value;
    bool has_inline = false;
    if (a[1] == '-') {
      std::string body = a.substr(2);
      size_t eq = body.find('=');
      if (eq != std::string::npos) {
        inline_value = body.substr(eq + 1);
        has_inline = true;
        body.resize(eq);
      }
      spec = findLong(specs, body);
      if (spec == nullptr) return makeError(ErrorCode::kInvalidArgument, "unknown flag: --" + body);
    } else {
      spec = findShort(specs, a[1]);
      if (spec == nullptr)
        return makeError(ErrorCode::kInvalidArgument, std::string("unknown shorthand flag: -") + a[1]);
      if (a.size() > 2) {
        inline_value = a.substr(a[2] == '=' ? 3 : 2);
        has_inline = true;
      }
    }
    const std::string name(spec->name);
    if (spec->kind == OptKind::kFlag) {
      std::string v = "true";
      if (has_inline) {
        FLB_ASSIGN_OR_RETURN(v, flagValue(inline_value, spec->name));
      }
      parsed.add(name, v);
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size())
        return makeError(ErrorCode::kInvalidArgument, "flag needs an argument: --" + name);
      inline_value = args[++i];
    }
    parsed.add(name, inline_value);
  }
  return parsed;
}

}  // namespace floatlb::cli
