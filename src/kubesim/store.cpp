#include "kubesim/store.h"

#include "kubesim/status.h"

namespace floatlb::kubesim {

using json = nlohmann::json;

namespace {
std::string nsOf(const json& o) { return o["metadata"].value("namespace", ""); }
std::string nameOf(const json& o) { return o["metadata"].value("name", ""); }
}  // namespace

const json* Store::get(const std::string& res, const std::string& ns, const std::string& name) const {
  auto r = objects_.find(res);
  if (r == objects_.end()) return nullptr;
  auto it = r->second.find({ns, name});
  return it == r->second.end() ? nullptr : &it->second;
}

std::vector<const json*> Store::list(const std::string& res, const std::string& ns) const {
  std::vector<const json*> out;
  auto r = objects_.find(res);
  if (r == objects_.end()) return out;
  for (const auto& [k, v] : r->second)
    if (ns.empty() || k.first == ns) out.push_back(&v);
  return out;
}

const json& Store::put(const std::string& res, json obj) {
  Key k{nsOf(obj), nameOf(obj)};
  auto& bucket = objects_[res];
  auto it = bucket.find(k);
  json prev;
  if (it != bucket.end()) {
    json a = it->second, b = obj;
    a["metadata"].erase("resourceVersion");
    b["metadata"].erase("resourceVersion");
    if (a == b) return it->second;
    prev = it->second;
  }
  ++rev_;
  obj["metadata"]["resourceVersion"] = std::to_string(rev_);
  json& stored = bucket[k] = std::move(obj);
  record({prev.is_null() ? "ADDED" : "MODIFIED", res, stored, prev, rev_});
  return stored;
}

bool Store::erase(const std::string& res, const std::string& ns, const std::string& name) {
  auto r = objects_.find(res);
  if (r == objects_.end()) return false;
  auto it = r->second.find({ns, name});
  if (it == r->second.end()) return false;
  json last = it->second;
  r->second.erase(it);
  ++rev_;
  last["metadata"]["resourceVersion"] = std::to_string(rev_);
  record({"DELETED", res, last, last, rev_});
  return true;
}

void Store::record(StoreEvent ev) {
  history_.push_back(std::move(ev));
  while (history_.size() > limit_) {
    compacted_ = history_.front().rv;
    history_.pop_front();
  }
}

Result<std::vector<const StoreEvent*>> Store::since(uint64_t rv) const {
  if (rv > rev_) {
    return apiError(
        504, "Timeout",
        "Too large resource version: " + std::to_string(rv) + ", current: " + std::to_string(rev_),
        {{"causes", {{{"reason", "ResourceVersionTooLarge"}, {"message", "Too large resource version"}}}},
         {"retryAfterSeconds", 1}});
  }
  if (rv < compacted_) {
    return apiError(
        410, "Expired",
        "too old resource version: " + std::to_string(rv) + " (" + std::to_string(compacted_) + ")");
  }
  std::vector<const StoreEvent*> out;
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv; ++it) out.push_back(&*it);
  std::reverse(out.begin(), out.end());
  return out;
}

json Store::snapshot() const {
  json objs = json::array();
  for (const auto& [res, bucket] : objects_)
    for (const auto& [k, v] : bucket) objs.push_back({{"resource", res}, {"object", v}});
  return {{"revision", rev_}, {"objects", objs}};
}

void Store::restore(const json& snap) {
  objects_.clear();
  history_.clear();
  rev_ = snap.value("revision", uint64_t{0});
  compacted_ = rev_;
  for (const auto& e : snap.value("objects", json::array())) {
    const json& o = e["object"];
    objects_[e["resource"].get<std::string>()][{nsOf(o), nameOf(o)}] = o;
  }
}

}  // namespace floatlb::kubesim
