// Internal helpers of the Query-API front (ec2_query*.cpp): parameter decoding, the common error
// documents and the generic Describe* (ids, filters, item renderer). Not part of flb_sim's API.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/net.h"
#include "sim/api_types.h"
#include "sim/xml.h"

namespace floatlb::sim::query {

using sim::missing;
using sim::notFound;
using sim::parseIp;

inline Outcome<std::string> required(const Params& p, const std::string& name) {
  auto v = p.get(name);
  if (!v || v->empty()) return missing(name);
  return *v;
}

// An optional IPv4 parameter: nullopt when absent, InvalidParameterValue when malformed.
inline Outcome<std::optional<Ip4>> optionalIp(const Params& p, const std::string& name) {
  auto t = p.get(name);
  if (!t) return std::optional<Ip4>();
  FLB_ASSIGN_OR_RETURN(Ip4 ip, parseIp(*t));
  return std::optional<Ip4>(ip);
}

inline std::string trueXml() { return xml::el("return", true); }

// Filter evaluation: the values of a resource's field (nullopt = unknown field).
using Vals = std::optional<std::vector<std::string>>;

ApiStatus checkFilterNames(const std::vector<Filter>& filters, const std::set<std::string>& allowed);
bool matchesFilters(const std::vector<Filter>& filters, const Tags& tags,
                    const std::function<Vals(const std::string&)>& fields);

struct DescribeSpec {
  std::string id_key;   // e.g. "SubnetId" (SubnetId.N)
  std::string nf_code;  // e.g. "InvalidSubnetID.NotFound"
  std::string nf_what;  // e.g. "subnet ID"
  std::set<std::string> filters;
};

// Generic describe over a std::map<id, resource>: unknown ids fail, filters select, `render` gives
// each <item>'s body.
template <class Map, class Fields, class Render>
Outcome<std::string> describe(const Params& p, const DescribeSpec& spec, const Map& collection, Fields fields,
                              Render render) {
  auto filters = parseFilters(p);
  FLB_TRY(checkFilterNames(filters, spec.filters));
  auto ids = p.list(spec.id_key);
  for (const auto& id : ids) {
    if (!collection.count(id)) return notFound(spec.nf_code, spec.nf_what, id);
  }
  std::string items;
  for (const auto& [id, obj] : collection) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    if (!matchesFilters(filters, obj.tags, [&](const std::string& n) { return fields(obj, n); })) continue;
    items += xml::raw("item", render(obj));
  }
  return items;
}

}  // namespace floatlb::sim::query
