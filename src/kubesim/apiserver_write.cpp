// ApiServer writes: decode/validate bodies, create, update (PUT and PATCH), delete with finalizers.
#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "kubesim/apiserver.h"
#include "kubesim/apiserver_support.h"
#include "kubesim/patch.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

using namespace apiserver_support;  // NOLINT(google-build-using-namespace): the split's shared helpers

// ---------------------------------------------------------------------------------------------- writes

Result<json> ApiServer::decodeBody(const Request& req, const ResourceInfo& r,
                                   std::vector<std::string>& warnings) {
  if (req.contentType.find("protobuf") != std::string::npos)
    return apiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json, application/yaml");
  json obj = json::parse(req.body, nullptr, false);
  if (obj.is_discarded() || !obj.is_object())
    return badRequest(r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind +
                      ": couldn't get version/kind; json parse error: unexpected end of JSON input");
  FLB_TRY(checkFields(r, obj, q(req, "fieldValidation"),
                      r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind + ": ",
                      warnings));
  if (obj.contains("kind") && obj["kind"] != r.kind)
    return badRequest(r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind +
                      ": the kind in the data (" + obj.value("kind", "") +
                      ") does not match the expected kind");
  obj["kind"] = r.kind;
  obj["apiVersion"] = r.apiVersion();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  return obj;
}

namespace {
// A namespaced body takes the URL's namespace; a different one in the body is a 400.
Status bindNamespace(json& obj, const ResourceInfo& r, const std::string& ns) {
  if (!r.namespaced) return okStatus();
  std::string bns = obj["metadata"].value("namespace", "");
  if (!bns.empty() && bns != ns)
    return badRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
  obj["metadata"]["namespace"] = ns;
  return okStatus();
}

Response withWarnings(Response r, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) {  // 299 - "<text>" with the text quoted as Go's strconv.Quote does
    std::string quoted;
    for (char c : w) quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    r.headers.emplace_back("Warning", "299 - \"" + quoted + "\"");
  }
  return r;
}
}  // namespace

Result<Response> ApiServer::doCreate(const Request& req, const Parsed& p) {
  std::vector<std::string> warnings;
  FLB_ASSIGN_OR_RETURN(json obj, decodeBody(req, *p.res, warnings));
  FLB_TRY(bindNamespace(obj, *p.res, p.ns));
  if (q(req, "dryRun") == "All") return withWarnings(jsonResponse(201, obj), warnings);
  FLB_ASSIGN_OR_RETURN(json created, createObject(*p.res, std::move(obj)));
  return withWarnings(jsonResponse(201, created), warnings);
}

Result<json> ApiServer::createObject(const ResourceInfo& r, json obj) {
  json& md = obj["metadata"];
  if (r.namespaced) {
    std::string ns = md.value("namespace", "");
    const json* nso = store_.get("namespaces", "", ns);
    if (!nso) return notFound("namespaces", "", ns);
    if (nso->contains("/metadata/deletionTimestamp"_json_pointer))
      return apiError(403, "Forbidden",
                      r.plural + " \"" + md.value("name", "") +
                          "\" is forbidden: unable to create new content in namespace " + ns +
                          " because it is being terminated");
  } else {
    md.erase("namespace");
  }
  std::string name = md.value("name", "");
  if (name.empty() && md.value("generateName", "") != "") {
    for (int i = 0; i < 8 && (name.empty() || store_.get(r.plural, md.value("namespace", ""), name)); ++i)
      name = md["generateName"].get<std::string>() + randSuffix(5);
    md["name"] = name;
  }
  if (name.empty())
    return invalid(
        r.kind, r.group, "",
        {{"metadata.name", "FieldValueRequired", "Required value: name or generateName is required"}});
  std::string rule = nameRule(r.plural, name);
  if (!rule.empty())
    return invalid(r.kind, r.group, name,
                   {{"metadata.name", "FieldValueInvalid", "Invalid value: \"" + name + "\": " + rule}});
  if (store_.get(r.plural, md.value("namespace", ""), name)) {
    json d = {{"name", name}, {"kind", r.plural}};
    if (!r.group.empty()) d["group"] = r.group;
    return apiError(
        409, "AlreadyExists",
        (r.group.empty() ? r.plural : r.plural + "." + r.group) + " \"" + name + "\" already exists", d);
  }
  md["uid"] = uuid();
  md["creationTimestamp"] = rfc3339(now());
  for (const char* k :
       {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"})
    md.erase(k);
  md.erase("generation");
  if (r.plural == "deployments") md["generation"] = 1;
  if (r.plural == "services") {
    obj["status"] = {{"loadBalancer", json::object()}};
    FLB_TRY(admitService(obj, nullptr));
  } else if (r.plural == "pods") {
    FLB_TRY(admitPod(obj, nullptr));
  } else if (r.plural == "deployments") {
    obj["status"] = json::object();
    FLB_TRY(admitDeployment(obj, nullptr));
  } else if (r.plural == "nodes") {
    if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
  } else if (r.plural == "namespaces") {
    md["labels"]["kubernetes.io/metadata.name"] = name;
    obj["spec"] = {{"finalizers", {"kubernetes"}}};
    obj["status"] = {{"phase", "Active"}};
  } else if (r.plural == "secrets") {
    if (obj.contains("stringData")) {
      for (auto it = obj["stringData"].begin(); it != obj["stringData"].end(); ++it)
        obj["data"][it.key()] = base64(it.value().get<std::string>());
      obj.erase("stringData");
    }
    if (!obj.contains("type")) obj["type"] = "Opaque";
  } else if (r.plural == "events") {
    if (!obj.contains("count")) obj["count"] = 1;
  }
  return store_.put(r.plural, std::move(obj));
}

Result<Response> ApiServer::doUpdate(const Request& req, const Parsed& p) {
  std::vector<std::string> warnings;
  FLB_ASSIGN_OR_RETURN(json obj, decodeBody(req, *p.res, warnings));
  std::string bname = obj["metadata"].value("name", "");
  if (bname != p.name)
    return badRequest("the name of the object (" + bname + ") does not match the name on the URL (" + p.name +
                      ")");
  FLB_TRY(bindNamespace(obj, *p.res, p.ns));
  const json* cur = store_.get(p.res->plural, p.ns, p.name);
  if (!cur) return notFound(p.res->plural, p.res->group, p.name);
  json curCopy = *cur;
  FLB_ASSIGN_OR_RETURN(json out, updateObject(*p.res, curCopy, std::move(obj), p.sub));
  return withWarnings(jsonResponse(200, out), warnings);
}

Result<Response> ApiServer::doPatch(const Request& req, const Parsed& p) {
  const json* curp = store_.get(p.res->plural, p.ns, p.name);
  if (!curp) return notFound(p.res->plural, p.res->group, p.name);
  json cur = *curp;
  json patch = json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) return badRequest("error decoding patch: invalid character in JSON");
  const std::string& ct = req.contentType;
  Result<json> patched = badRequest("");
  if (ct.rfind("application/merge-patch+json", 0) == 0) {
    patched = mergePatch(cur, patch);
  } else if (ct.rfind("application/json-patch+json", 0) == 0) {
    patched = jsonPatch(cur, patch);
  } else if (ct.rfind("application/strategic-merge-patch+json", 0) == 0) {
    patched = strategicMergePatch(cur, patch);
  } else if (ct.rfind("application/apply-patch+yaml", 0) == 0) {
    return apiError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json "
        "(server-side apply is not implemented by kubesim)");
  } else {
    return apiError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
  }
  if (!patched.ok()) return patched.error();
  json next = std::move(patched).value();
  std::vector<std::string> warnings;
  FLB_TRY(checkFields(*p.res, next, q(req, "fieldValidation"), "", warnings));
  next["kind"] = p.res->kind;
  next["apiVersion"] = p.res->apiVersion();
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = json::object();
  next["metadata"]["name"] = p.name;
  if (p.res->namespaced) next["metadata"]["namespace"] = p.ns;
  if (next["metadata"].value("resourceVersion", "") == "")
    next["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"];
  FLB_ASSIGN_OR_RETURN(json out, updateObject(*p.res, cur, std::move(next), p.sub));
  return withWarnings(jsonResponse(200, out), warnings);
}

Result<json> ApiServer::updateObject(const ResourceInfo& r, const json& cur, json next,
                                     const std::string& sub) {
  std::string rv = next["metadata"].value("resourceVersion", "");
  std::string curRv = cur["metadata"].value("resourceVersion", "");
  if (!rv.empty() && rv != curRv) {
    json d = {{"name", cur["metadata"].value("name", "")}, {"kind", r.plural}};
    if (!r.group.empty()) d["group"] = r.group;
    return apiError(
        409, "Conflict",
        "Operation cannot be fulfilled on " + (r.group.empty() ? r.plural : r.plural + "." + r.group) +
            " \"" + cur["metadata"].value("name", "") +
            "\": the object has been modified; please apply your changes to the latest version and try again",
        d);
  }
  json out;
  if (sub == "status") {
    out = cur;
    out["status"] = next.value("status", json::object());
  } else {
    out = std::move(next);
    json& md = out["metadata"];
    for (const char* k :
         {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
      if (cur["metadata"].contains(k)) {
        md[k] = cur["metadata"][k];
      } else {
        md.erase(k);
      }
    }
    md.erase("managedFields");
    if (r.hasStatus) {
      if (cur.contains("status")) {
        out["status"] = cur["status"];
      } else {
        out.erase("status");
      }
    }
    if (cur["metadata"].contains("deletionTimestamp")) {
      std::set<std::string> old;
      for (const auto& f : cur["metadata"].value("finalizers", json::array()))
        old.insert(f.get<std::string>());
      for (const auto& f : md.value("finalizers", json::array()))
        if (!old.count(f.get<std::string>()))
          return invalid(r.kind, r.group, md.value("name", ""),
                         {{"metadata.finalizers", "FieldValueForbidden",
                           "Forbidden: no new finalizers can be added if the object is being deleted, found "
                           "new finalizers []string{\"" +
                               f.get<std::string>() + "\"}"}});
    }
    if (md.contains("finalizers") && md["finalizers"].empty()) md.erase("finalizers");
  }
  if (r.plural == "services") {
    if (sub == "status") {
      std::vector<Cause> causes;
      const json ing = out.value("status", json::object())
                           .value("loadBalancer", json::object())
                           .value("ingress", json::array());
      for (size_t i = 0; i < ing.size(); ++i) {
        std::string f = fmt::format("status.loadBalancer.ingress[{}]", i);
        std::string ip = ing[i].value("ip", ""), host = ing[i].value("hostname", "");
        if (!ip.empty() && !parseIpv4(ip))
          causes.push_back(
              {f + ".ip", "FieldValueInvalid", "Invalid value: \"" + ip + "\": must be a valid IP address"});
        if (!host.empty()) {
          if (parseIpv4(host))
            causes.push_back({f + ".hostname", "FieldValueInvalid",
                              "Invalid value: \"" + host + "\": must be a DNS name, not an IP address"});
          else if (!std::regex_match(host, kDns1123Sub))
            causes.push_back(
                {f + ".hostname", "FieldValueInvalid", "Invalid value: \"" + host + "\": " + kDns1123SubMsg});
        }
        if (ing[i].contains("ipMode")) {
          std::string m = ing[i].value("ipMode", "");
          if (ip.empty())
            causes.push_back({f + ".ipMode", "FieldValueForbidden",
                              "Forbidden: may not be specified when `ip` is not set"});
          else if (m != "VIP" && m != "Proxy")
            causes.push_back({f + ".ipMode", "FieldValueNotSupported",
                              "Unsupported value: \"" + m + "\": supported values: \"Proxy\", \"VIP\""});
        }
        const json ports = ing[i].value("ports", json::array());
        for (size_t j = 0; j < ports.size(); ++j) {
          if (!ports[j].contains("port"))
            causes.push_back(
                {fmt::format("{}.ports[{}].port", f, j), "FieldValueRequired", "Required value"});
          if (!ports[j].contains("protocol"))
            causes.push_back(
                {fmt::format("{}.ports[{}].protocol", f, j), "FieldValueRequired", "Required value"});
        }
      }
      if (!causes.empty()) return invalid(r.kind, r.group, cur["metadata"].value("name", ""), causes);
    } else {
      FLB_TRY(admitService(out, &cur));
    }
  } else if (r.plural == "pods" && sub.empty()) {
    FLB_TRY(admitPod(out, &cur));
  } else if (r.plural == "deployments" && sub.empty()) {
    FLB_TRY(admitDeployment(out, &cur));
    if (out.value("spec", json::object()) != cur.value("spec", json::object()))
      out["metadata"]["generation"] = cur["metadata"].value("generation", 1) + 1;
  }
  if (out["metadata"].contains("deletionTimestamp") &&
      out["metadata"].value("finalizers", json::array()).empty() &&
      !(r.plural == "pods" && out["metadata"].value("deletionGracePeriodSeconds", 0) > 0 &&
        out.value("spec", json::object()).value("nodeName", "") != "")) {
    finalizeDelete(r, out);
    return out;
  }
  return store_.put(r.plural, std::move(out));
}

void ApiServer::finalizeDelete(const ResourceInfo& r, const json& obj) {
  if (r.plural == "services") releaseService(obj);
  if (r.plural == "pods") {
    std::string node = obj.value("spec", json::object()).value("nodeName", "");
    std::string ip = obj.value("status", json::object()).value("podIP", "");
    if (!ip.empty()) podIpsUsed_[node].erase(ip);
  }
  store_.erase(r.plural, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
}

Result<Response> ApiServer::doDelete(const Request& req, const Parsed& p) {
  const json* curp = store_.get(p.res->plural, p.ns, p.name);
  if (!curp) return notFound(p.res->plural, p.res->group, p.name);
  json opts = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (!opts.is_object()) return badRequest("error decoding DeleteOptions");
  if (!q(req, "gracePeriodSeconds").empty())
    opts["gracePeriodSeconds"] = std::atoi(q(req, "gracePeriodSeconds").c_str());
  if (!q(req, "propagationPolicy").empty()) opts["propagationPolicy"] = q(req, "propagationPolicy");
  json cur = *curp;
  if (opts.contains("preconditions")) {
    const json& pc = opts["preconditions"];
    if (pc.value("uid", "") != "" && pc["uid"] != cur["metadata"]["uid"])
      return apiError(409, "Conflict",
                      "Precondition failed: UID in precondition: " + pc.value("uid", "") +
                          ", UID in object meta: " + cur["metadata"].value("uid", ""));
    if (pc.value("resourceVersion", "") != "" && pc["resourceVersion"] != cur["metadata"]["resourceVersion"])
      return apiError(
          409, "Conflict",
          "Precondition failed: ResourceVersion in precondition: " + pc.value("resourceVersion", "") +
              ", ResourceVersion in object meta: " + cur["metadata"].value("resourceVersion", ""));
  }
  if (q(req, "dryRun") == "All") return jsonResponse(200, cur);
  FLB_ASSIGN_OR_RETURN(json out, deleteObject(*p.res, cur, opts));
  return jsonResponse(200, out);
}

Result<json> ApiServer::deleteObject(const ResourceInfo& r, const json& cur, const json& opts) {
  json obj = cur;
  json& md = obj["metadata"];
  bool hasFinalizers = !md.value("finalizers", json::array()).empty();
  auto successStatus = [&] {
    json d = {{"name", md.value("name", "")}, {"kind", r.plural}, {"uid", md.value("uid", "")}};
    if (!r.group.empty()) d["group"] = r.group;
    return json{{"kind", "Status"},
                {"apiVersion", "v1"},
                {"metadata", json::object()},
                {"status", "Success"},
                {"details", d}};
  };
  bool returnsObject = r.plural == "services" || r.plural == "pods" || r.plural == "namespaces";
  if (r.plural == "pods" && obj.value("spec", json::object()).value("nodeName", "") != "") {
    int grace = opts.contains("gracePeriodSeconds") && opts["gracePeriodSeconds"].is_number()
                    ? opts["gracePeriodSeconds"].get<int>()
                    : obj["spec"].value("terminationGracePeriodSeconds", 30);
    if (grace > 0 || hasFinalizers) {
      int64_t deadline = now() + grace * 1000LL;
      if (md.contains("deletionTimestamp")) {
        auto old = parseTime(md["deletionTimestamp"].get<std::string>());
        if (old && *old <= deadline) return obj;
      }
      md["deletionTimestamp"] = rfc3339(deadline);
      md["deletionGracePeriodSeconds"] = grace;
      return store_.put(r.plural, std::move(obj));
    }
  }
  if (r.plural == "namespaces") {
    if (!md.contains("deletionTimestamp")) {
      md["deletionTimestamp"] = rfc3339(now());
      md["deletionGracePeriodSeconds"] = 0;
      obj["status"]["phase"] = "Terminating";
      return store_.put(r.plural, std::move(obj));
    }
    return obj;
  }
  if (hasFinalizers) {
    if (md.contains("deletionTimestamp")) return obj;
    md["deletionTimestamp"] = rfc3339(now());
    md["deletionGracePeriodSeconds"] = 0;
    return store_.put(r.plural, std::move(obj));
  }
  finalizeDelete(r, obj);
  return returnsObject ? obj : successStatus();
}

}  // namespace floatlb::kubesim
