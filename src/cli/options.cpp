// parseArgs over CLI11 (the project's one argv parser): the OptSpec table becomes CLI11 options,
// then the cobra/pflag spellings CLI11 does not share are mapped before and after it runs.
#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "common/strings.h"

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

// What CLI11 and pflag disagree on, checked and normalised before CLI11 sees the words:
// boolean values (pflag: --flag=1|0|true|false), "-p=value", and the messages for unknown flags
// and for a value option at the very end.
Result<std::vector<std::string>> normalise(std::span<const OptSpec> specs,
                                           const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      out.push_back(a);
      continue;
    }
    const OptSpec* spec = nullptr;
    bool has_inline = false;
    if (a[1] == '-') {
      std::string body = a.substr(2);
      const size_t eq = body.find('=');
      has_inline = eq != std::string::npos;
      spec = findLong(specs, has_inline ? body.substr(0, eq) : body);
      if (spec == nullptr)
        return makeError(ErrorCode::kInvalidArgument,
                         "unknown flag: --" + (has_inline ? body.substr(0, eq) : body));
      if (has_inline && spec->kind == OptKind::kFlag) {
        FLB_ASSIGN_OR_RETURN(std::string v, flagValue(body.substr(eq + 1), spec->name));
        out.push_back("--" + std::string(spec->name) + "=" + v);
        continue;
      }
    } else {
      spec = findShort(specs, a[1]);
      if (spec == nullptr)
        return makeError(ErrorCode::kInvalidArgument, std::string("unknown shorthand flag: -") + a[1]);
      has_inline = a.size() > 2;
      if (has_inline && spec->kind == OptKind::kFlag) {
        FLB_ASSIGN_OR_RETURN(std::string v, flagValue(a.substr(a[2] == '=' ? 3 : 2), spec->name));
        out.push_back("--" + std::string(spec->name) + "=" + v);
        continue;
      }
      if (has_inline && a[2] == '=') {
        out.push_back(a.substr(0, 2) + a.substr(3));
        continue;
      }
    }
    if (spec->kind != OptKind::kFlag && !has_inline && i + 1 >= args.size())
      return makeError(ErrorCode::kInvalidArgument, "flag needs an argument: --" + std::string(spec->name));
    out.push_back(a);
    if (spec->kind != OptKind::kFlag && !has_inline)
      out.push_back(args[++i]);  // the value, whatever it looks like
  }
  return out;
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
    for (auto& item : splitList(v)) out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::string> ParsedArgs::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : values_) out.push_back(k);
  return out;
}

Result<ParsedArgs> parseArgs(std::span<const OptSpec> specs, const std::vector<std::string>& args) {
  FLB_ASSIGN_OR_RETURN(auto words, normalise(specs, args));
  ParsedArgs parsed;
  CLI::App app;
  app.set_help_flag();
  app.allow_extras(true);  // only "--" can be left over: unknown flags were refused above
  std::vector<std::string> positional;
  app.add_option("words", positional);
  std::vector<std::unique_ptr<std::vector<std::string>>> storage;
  for (const auto& s : specs) {
    std::string names = "--" + std::string(s.name);
    if (s.short_name != 0) names = std::string("-") + s.short_name + "," + names;
    const std::string key(s.name);
    if (s.kind == OptKind::kFlag) {
      app.add_flag_function(names,
                            [&parsed, key](int64_t count) { parsed.add(key, count > 0 ? "true" : "false"); });
    } else {
      app.add_option_function<std::vector<std::string>>(
             names,
             [&parsed, key](const std::vector<std::string>& values) {
               for (const auto& v : values) parsed.add(key, v);
             })
          ->allow_extra_args(false)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
  }
  std::vector<std::string> reversed(words.rbegin(), words.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return makeError(ErrorCode::kInvalidArgument, e.what());
  }
  parsed.positional = std::move(positional);
  return parsed;
}

}  // namespace floatlb::cli
