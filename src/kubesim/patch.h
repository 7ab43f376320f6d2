// The three PATCH flavours of the API server on untyped JSON objects:
//   merge patch (RFC 7386), JSON patch (RFC 6902, incl. `test`), and strategic merge patch (SMP) with the
//   merge keys of the Kubernetes types kubesim serves (see smpMergeKey) and the directives `$patch`,
//   `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace floatlb::kubesim {

Result<nlohmann::json> mergePatch(const nlohmann::json& target, const nlohmann::json& patch);
Result<nlohmann::json> jsonPatch(const nlohmann::json& target, const nlohmann::json& patch);
Result<nlohmann::json> strategicMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

// The merge key of the list at `path` (dotted, list indices dropped, e.g. "spec.template.spec.containers"):
// "" = the list is replaced; "$set" = a primitive list merged as a set (metadata.finalizers).
std::string smpMergeKey(const std::string& path);

}  // namespace floatlb::kubesim
