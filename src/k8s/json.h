// Objects are kept as nlohmann JSON so fields this client does not know round-trip verbatim.
// Total accessors: a missing key or a value of the wrong type yields the fallback, never a throw.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace floatlb::k8s {

using Json = nlohmann::json;

// The member `key` of `obj` when `obj` is an object that has it, else nullptr.
const Json* member(const Json& obj, std::string_view key);
// Walks nested objects: path("metadata", "name").
const Json* path(const Json& obj, std::initializer_list<std::string_view> keys);

std::string str(const Json* v, std::string_view fallback = "");
std::optional<int64_t> integer(const Json* v);
std::optional<bool> boolean(const Json* v);

// Parses text as JSON without throwing; nullopt on a syntax error.
std::optional<Json> parseJson(std::string_view text);
// Serialises without throwing (invalid UTF-8 is replaced).
std::string dump(const Json& j);

// "namespace/name" (or "name" for cluster-scoped objects).
std::string objectKey(const Json& obj);
std::string resourceVersion(const Json& obj);

}  // namespace floatlb::k8s
