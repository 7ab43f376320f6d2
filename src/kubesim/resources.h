// The resources kubesim serves (kind, group/version, scope, short names) and what is derived from that
// table alone: legacy and aggregated discovery documents and the minimal protobuf OpenAPI v2 document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace floatlb::kubesim {

struct ResourceInfo {
  std::string plural, singular, kind, group, version;
  bool namespaced = true;
  bool hasStatus = false;
  std::vector<std::string> shortNames;
  [[nodiscard]] std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

const std::vector<ResourceInfo>& allResources();
const ResourceInfo* findResource(const std::string& group, const std::string& version,
                                 const std::string& plural);
const ResourceInfo* findResourceByKind(const std::string& kind);

nlohmann::json legacyApiVersions(const std::string& serverAddress);  // GET /api
nlohmann::json legacyApiGroupList();                                 // GET /apis
nlohmann::json apiResourceList(const std::string& group,
                               const std::string& version);  // GET /api/v1, /apis/g/v
nlohmann::json aggregatedDiscovery(
    bool core);  // apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api or /apis
// openapi_v2.Document{swagger:"2.0", info{title:"Kubernetes", version}, paths{}} in protobuf wire format.
std::string openapiV2Protobuf(const std::string& version);

// Strict field validation: the unknown fields of `obj` (paths like "spec.bogus", "spec.ports[0].x") for the
// kinds with a schema (metadata everywhere; Service, Pod, Namespace, ConfigMap, Secret, Lease, EndpointSlice,
// Deployment); other kinds only have their top level checked.
std::vector<std::string> unknownFields(const ResourceInfo& r, const nlohmann::json& obj);
// Removes the field at a path as unknownFields() reports it ("spec.ports[0].x").
void eraseFieldPath(nlohmann::json& obj, const std::string& path);

}  // namespace floatlb::kubesim
