#include "k8s/json.h"

namespace floatlb::k8s {

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json* path(const Json& obj, std::initializer_list<std::string_view> keys) {
  const Json* cur = &obj;
  for (auto k : keys) {
    cur = member(*cur, k);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string str(const Json* v, std::string_view fallback) {
  if (v != nullptr && v->is_string()) return v->get<std::string>();
  return std::string(fallback);
}

std::optional<int64_t> integer(const Json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) {
    auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  return std::nullopt;
}

std::optional<bool> boolean(const Json* v) {
  if (v != nullptr && v->is_boolean()) return v->get<bool>();
  return std::nullopt;
}

std::optional<Json> parseJson(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string objectKey(const Json& obj) {
  std::string ns = str(path(obj, {"metadata", "namespace"}));
  std::string name = str(path(obj, {"metadata", "name"}));
  return ns.empty() ? name : ns + "/" + name;
}

std::string resourceVersion(const Json& obj) { return str(path(obj, {"metadata", "resourceVersion"})); }

}  // namespace floatlb::k8s
