#include "kubesim/patch.h"

#include <algorithm>
#include <set>

#include "kubesim/status.h"

namespace floatlb::kubesim {

using json = nlohmann::json;

namespace {

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

Error patchError(const std::string& why) {
  return apiError(422, "Invalid", "the server rejected our request due to an error in our request: " + why);
}

Result<json> smpObject(json orig, const json& patch, const std::string& path);

// Reorders `list` so elements named in `order` come first in that order; others keep their order after.
json applyOrder(const json& list, const json& order, const std::string& key) {
  if (!order.is_array()) return list;
  json out = json::array();
  std::vector<bool> used(list.size(), false);
  for (const auto& o : order) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (used[i]) continue;
      bool same = key.empty() || key == "$set" ? list[i] == o
                                               : (list[i].is_object() && o.is_object() && o.contains(key) &&
                                                  list[i].contains(key) && list[i][key] == o[key]);
      if (same) {
        out.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < list.size(); ++i)
    if (!used[i]) out.push_back(list[i]);
  return out;
}

Result<json> smpList(const json& orig, const json& patch, const std::string& path) {
  std::string key = smpMergeKey(path);
  if (key.empty()) {
    json out = json::array();  // replace (nested directives inside elements are not meaningful here)
    for (const auto& e : patch)
      if (!(e.is_object() && e.contains("$patch"))) out.push_back(e);
    return out;
  }
  json base = orig.is_array() ? orig : json::array();
  for (const auto& e : patch)
    if (e.is_object() && e.value("$patch", "") == "replace") {
      json out = json::array();
      for (const auto& x : patch)
        if (!(x.is_object() && x.contains("$patch"))) out.push_back(x);
      return out;
    }
  if (key == "$set") {
    for (const auto& e : patch)
      if (std::find(base.begin(), base.end(), e) == base.end()) base.push_back(e);
    return base;
  }
  for (const auto& e : patch) {
    if (!e.is_object() || !e.contains(key)) return patchError("map in " + path + " has no merge key " + key);
    std::string dir = e.value("$patch", "");
    auto it = std::find_if(base.begin(), base.end(), [&](const json& b) {
      return b.is_object() && b.contains(key) && b[key] == e[key];
    });
    if (dir == "delete") {
      if (it != base.end()) base.erase(it);
      continue;
    }
    if (it != base.end()) {
      FLB_ASSIGN_OR_RETURN(*it, smpObject(*it, e, path));
    } else {
      FLB_ASSIGN_OR_RETURN(json fresh, smpObject(json::object(), e, path));
      base.push_back(std::move(fresh));
    }
  }
  return base;
}

Result<json> smpObject(json orig, const json& patch, const std::string& path) {
  if (!patch.is_object()) return patch;
  std::string dir = patch.value("$patch", "");
  if (dir == "replace") {
    json out = patch;
    out.erase("$patch");
    return out;
  }
  if (dir == "delete") return json(nullptr);
  if (!orig.is_object()) orig = json::object();
  auto child = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0) continue;
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string list = k.substr(std::string("$deleteFromPrimitiveList/").size());
      if (orig.contains(list) && orig[list].is_array()) {
        json kept = json::array();
        for (const auto& v : orig[list])
          if (std::find(it.value().begin(), it.value().end(), v) == it.value().end()) kept.push_back(v);
        orig[list] = kept;
      }
      continue;
    }
    const json& v = it.value();
    if (v.is_null()) {
      orig.erase(k);
    } else if (v.is_object()) {
      FLB_ASSIGN_OR_RETURN(json merged, smpObject(orig.contains(k) ? orig[k] : json::object(), v, child(k)));
      if (merged.is_null()) {
        orig.erase(k);
      } else {
        orig[k] = std::move(merged);
      }
    } else if (v.is_array()) {
      FLB_ASSIGN_OR_RETURN(orig[k], smpList(orig.contains(k) ? orig[k] : json::array(), v, child(k)));
    } else {
      orig[k] = v;
    }
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string pre = "$setElementOrder/";
    if (it.key().rfind(pre, 0) != 0) continue;
    std::string list = it.key().substr(pre.size());
    if (orig.contains(list) && orig[list].is_array())
      orig[list] = applyOrder(orig[list], it.value(), smpMergeKey(child(list)));
  }
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    std::set<std::string> keep;
    for (const auto& k : patch["$retainKeys"])
      if (k.is_string()) keep.insert(k.get<std::string>());
    for (auto it = orig.begin(); it != orig.end();) {
      if (!keep.count(it.key()) && !patch.contains(it.key())) {
        it = orig.erase(it);
      } else {
        ++it;
      }
    }
  }
  return orig;
}

}  // namespace

std::string smpMergeKey(const std::string& path) {
  if (path == "metadata.finalizers") return "$set";
  if (path == "metadata.ownerReferences") return "uid";
  if (path == "spec.ports") return "port";  // Service (the server's real key is port+protocol)
  if (endsWith(path, "containers") || endsWith(path, "initContainers") ||
      endsWith(path, "ephemeralContainers"))
    return "name";
  if (endsWith(path, "containers.ports") || endsWith(path, "initContainers.ports")) return "containerPort";
  if (endsWith(path, ".env") || endsWith(path, ".volumes") || endsWith(path, ".imagePullSecrets"))
    return "name";
  if (endsWith(path, ".volumeMounts")) return "mountPath";
  if (endsWith(path, "status.conditions")) return "type";
  if (path == "status.addresses") return "type";
  return "";
}

Result<json> mergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) return badRequest("merge patch must be a JSON object");
  json out = target;
  out.merge_patch(patch);
  return out;
}

Result<json> jsonPatch(const json& target, const json& patch) {
  if (!patch.is_array()) return badRequest("json patch must be a JSON array of operations");
  try {
    return target.patch(patch);
  } catch (const json::exception& e) {
    return patchError(e.what());
  }
}

Result<json> strategicMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) return badRequest("strategic merge patch must be a JSON object");
  FLB_ASSIGN_OR_RETURN(json out, smpObject(target, patch, ""));
  if (out.is_null()) return patchError("the patch deletes the whole object");
  return out;
}

}  // namespace floatlb::kubesim
