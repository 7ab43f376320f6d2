// YAML (kubeconfig, ExecCredential) to JSON with libyaml. Plain scalars become booleans, integers
// or null the way YAML 1.1 core tags read them; quoted scalars stay strings. Anchors/aliases are
// refused (kubeconfigs do not use them).
#pragma once

#include <string_view>

#include "common/result.h"
#include "k8s/json.h"

namespace floatlb::k8s {

Result<Json> yamlToJson(std::string_view text);

}  // namespace floatlb::k8s
