// Server-side Tables (meta.k8s.io/v1 Table), rendered with wide=true as the API server does, and
// apimachinery's HumanDuration for AGE. Time helpers for RFC 3339 timestamps (seconds and MicroTime).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace floatlb::kubesim {

std::string humanDuration(int64_t millis);
std::string rfc3339(int64_t wallMillis);                 // 2006-01-02T15:04:05Z
std::string microTime(int64_t wallMillis);               // 2006-01-02T15:04:05.000000Z
std::optional<int64_t> parseTime(const std::string& s);  // millis; accepts Z and +hh:mm, fractions

// Column definitions of a Table for `resource` (plural, e.g. "services").
nlohmann::json tableColumns(const std::string& resource);
// The cells of one row for `obj`, at wall time `nowMillis`.
nlohmann::json tableCells(const std::string& resource, const nlohmann::json& obj, int64_t nowMillis);
// A whole Table. includeObject: "None" | "Metadata" (default, PartialObjectMetadata) | "Object".
nlohmann::json renderTable(const std::string& resource, const std::vector<nlohmann::json>& objs,
                           int64_t nowMillis, const std::string& includeObject, const std::string& listRv,
                           bool withColumns = true);

}  // namespace floatlb::kubesim
