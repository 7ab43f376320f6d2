// Kubernetes errors as floatlb::Error: the message carries the `Status` object (JSON) that the HTTP
// front sends verbatim; statusOf() turns any Error back into a Status (non-Status errors become 500).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace floatlb::kubesim {

using json = nlohmann::json;

// A Status failure: code (HTTP), reason (`NotFound`, `Invalid`, ...), message, optional details.
Error apiError(int code, const std::string& reason, const std::string& message,
               json details = json::object());
Error notFound(const std::string& resource, const std::string& group, const std::string& name);
Error badRequest(const std::string& message);
// 422 Invalid from field causes ({field, type, message} as real servers: `spec.x: Invalid value: ...`).
struct Cause {
  std::string field;
  std::string
      type;  // FieldValueInvalid | FieldValueRequired | FieldValueForbidden | FieldValueDuplicate | ...
  std::string message;  // "Invalid value: 30080: provided port is already allocated"
};
Error invalid(const std::string& kind, const std::string& group, const std::string& name,
              const std::vector<Cause>& causes);

json statusOf(const Error& e);
int httpCodeOf(const json& status);

}  // namespace floatlb::kubesim
