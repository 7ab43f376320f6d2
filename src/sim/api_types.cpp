#include "sim/api_types.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "cloud/aws/query.h"

namespace floatlb::sim {

std::string urlDecode(const std::string& s) { return cloud::aws::percentDecode(s, true); }

Params Params::parseForm(const std::string& body) {
  Params p;
  for (auto& [k, v] : cloud::aws::formDecode(body)) p.kv_[std::move(k)] = std::move(v);
  return p;
}

std::optional<std::string> Params::get(const std::string& k) const {
  auto it = kv_.find(k);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

std::string Params::getOr(const std::string& k, const std::string& def) const {
  auto v = get(k);
  return v ? *v : def;
}

bool Params::flag(const std::string& k) const {
  auto v = get(k);
  if (!v) return false;
  std::string l = *v;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  return l == "true";
}

std::vector<std::string> Params::list(const std::string& prefix) const {
  std::vector<std::string> out;
  for (int i = 1; i <= 1000; ++i) {
    auto v = get(prefix + "." + std::to_string(i));
    if (!v) break;
    out.push_back(*v);
  }
  return out;
}

std::vector<Params> Params::groups(const std::string& prefix) const {
  std::map<int, Params> by_index;
  const std::string head = prefix + ".";
  for (const auto& [k, v] : kv_) {
    if (k.rfind(head, 0) != 0) continue;
    std::string rest = k.substr(head.size());
    size_t dot = rest.find('.');
    std::string num = rest.substr(0, dot);
    if (num.empty() ||
        !std::all_of(num.begin(), num.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        num.size() > 6) {
      continue;
    }
    by_index[std::stoi(num)].kv_[dot == std::string::npos ? "" : rest.substr(dot + 1)] = v;
  }
  std::vector<Params> out;
  for (auto& [i, g] : by_index) out.push_back(std::move(g));
  return out;
}

std::vector<Filter> parseFilters(const Params& p) {
  std::vector<Filter> out;
  for (const auto& g : p.groups("Filter")) {
    Filter f;
    f.name = g.getOr("Name", "");
    f.values = g.list("Value");
    out.push_back(std::move(f));
  }
  return out;
}

Tags parseTags(const Params& p, const std::string& prefix) {
  Tags t;
  for (const auto& g : p.groups(prefix)) {
    auto k = g.get("Key");
    if (k) t[*k] = g.getOr("Value", "");
  }
  return t;
}

Tags parseTagSpecs(const Params& p, const std::string& resource_type) {
  Tags t;
  for (const auto& spec : p.groups("TagSpecification")) {
    if (spec.getOr("ResourceType", resource_type) != resource_type) continue;
    for (const auto& [k, v] : parseTags(spec, "Tag")) t[k] = v;
  }
  return t;
}

bool globMatch(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking to the last '*'; O(n*m) worst case.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace floatlb::sim
