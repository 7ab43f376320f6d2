// Small string helpers shared by every module (one copy each).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace floatlb {

// Splits "a,b,,c" on `sep` into {"a","b","c"}: empty items are dropped, surrounding spaces trimmed.
inline std::vector<std::string> splitList(std::string_view s, char sep = ',') {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view item = s.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

inline bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace floatlb
