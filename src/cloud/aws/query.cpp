#include "cloud/aws/query.h"

#include <cctype>

namespace floatlb::cloud::aws {

std::optional<std::string> findTag(const Tags& tags, const std::string& key) {
  for (const auto& t : tags) {
    if (t.key == key) return t.value;
  }
  return std::nullopt;
}

QueryParams::QueryParams(std::string action, std::string version) : action_(action) {
  params_.emplace_back("Action", std::move(action));
  params_.emplace_back("Version", std::move(version));
}

QueryParams& QueryParams::set(std::string key, std::string value) {
  params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

QueryParams& QueryParams::setBool(std::string key, bool value) {
  return set(std::move(key), value ? "true" : "false");
}

QueryParams& QueryParams::setInt(std::string key, int64_t value) {
  return set(std::move(key), std::to_string(value));
}

QueryParams& QueryParams::setOptional(std::string key, const std::string& value) {
  if (!value.empty()) set(std::move(key), value);
  return *this;
}

QueryParams& QueryParams::setList(const std::string& key, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) set(key + "." + std::to_string(i + 1), values[i]);
  return *this;
}

QueryParams& QueryParams::setFilters(const Filters& filters) {
  for (size_t i = 0; i < filters.size(); ++i) {
    std::string p = "Filter." + std::to_string(i + 1);
    set(p + ".Name", filters[i].name);
    setList(p + ".Value", filters[i].values);
  }
  return *this;
}

QueryParams& QueryParams::setTags(const std::string& prefix, const Tags& tags) {
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string p = prefix + "." + std::to_string(i + 1);
    set(p + ".Key", tags[i].key);
    set(p + ".Value", tags[i].value);
  }
  return *this;
}

QueryParams& QueryParams::setTagSpecifications(const std::vector<TagSpecification>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    std::string p = "TagSpecification." + std::to_string(i + 1);
    set(p + ".ResourceType", specs[i].resourceType);
    setTags(p + ".Tag", specs[i].tags);
  }
  return *this;
}

const std::string* QueryParams::find(std::string_view key) const {
  for (const auto& [k, v] : params_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string QueryParams::encode() const {
  std::string out;
  for (const auto& [k, v] : params_) {
    if (!out.empty()) out.push_back('&');
    out += formEncode(k);
    out.push_back('=');
    out += formEncode(v);
  }
  return out;
}

std::string percentEncode(std::string_view s, bool encode_slash, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

namespace {
int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexv(s[i + 1]) * 16 + hexv(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string formEncode(std::string_view s) { return percentEncode(s, true, true); }

std::vector<std::pair<std::string, std::string>> formDecode(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view part = body.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out.emplace_back(
          percentDecode(part.substr(0, eq), true),
          eq == std::string_view::npos ? std::string() : percentDecode(part.substr(eq + 1), true));
    }
    pos = amp + 1;
  }
  return out;
}

}  // namespace floatlb::cloud::aws
