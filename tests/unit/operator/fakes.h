// In-memory fakes of the operator's two ports: a floatlb REST API per instance and the
// Kubernetes writes (with resourceVersion conflicts). Tests feed the fake API's objects back to
// the controller as the watch would (FakeKube::deliver).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8s/json.h"
#include "operator/controller.h"
#include "operator/ports.h"

namespace floatlb::kube::testing {

struct FakeInstance {
  bool down = false;
  bool ka = false;                         // answers /config/bfd/all with 200 (heartbeat HA)
  int fail_posts = 0;                      // next N POSTs answer 500
  int throttle_posts = 0;                  // next N POSTs answer 429 with Retry-After: 7
  std::string reject;                      // non-empty: POSTs answer 400 with this message
  std::map<std::string, k8s::Json> rules;  // "ip:port/proto" -> body
  std::map<std::string, std::string> cistate;
  std::vector<std::string> log;  // "METHOD path"
};

class FakeLb : public LbTransport {
 public:
  explicit FakeLb(size_t n) : inst(n) {}
  HttpReply request(size_t i, const std::string& method, const std::string& path, const std::string& body,
                    Duration) override {
    FakeInstance& f = inst.at(i);
    if (f.down) return {0, ""};
    f.log.push_back(method + " " + path);
    if (method == "GET" && path == "/netlox/v1") return {200, "{}"};
    if (method == "GET" && path == "/netlox/v1/config/bfd/all") {
      return f.ka ? HttpReply{200, "{\"Attr\":[]}"}
                  : HttpReply{500, "{\"message\":\"bfd session not running\"}"};
    }
    if (method == "GET" && path == "/netlox/v1/config/cistate/all") {
      k8s::Json a = k8s::Json::array();
      for (const auto& [n, s] : f.cistate) a.push_back({{"instance", n}, {"state", s}, {"vip", "0.0.0.0"}});
      return {200, k8s::dump(k8s::Json{{"Attr", a}})};
    }
    if (method == "POST" && path == "/netlox/v1/config/cistate") {
      auto j = *k8s::parseJson(body);
      f.cistate[j["instance"].get<std::string>()] = j["state"].get<std::string>();
      return {200, "{\"result\":\"Success\"}"};
    }
    if (method == "GET" && path == "/netlox/v1/config/loadbalancer/all") {
      k8s::Json a = k8s::Json::array();
      for (const auto& [k, b] : f.rules) a.push_back(b);
      return {200, k8s::dump(k8s::Json{{"lbAttr", a}})};
    }
    if (method == "POST" && path == "/netlox/v1/config/loadbalancer") {
      if (!f.reject.empty()) return {400, "{\"code\":400,\"message\":\"" + f.reject + "\"}"};
      if (f.throttle_posts > 0) {
        --f.throttle_posts;
        return {429, "{\"message\":\"slow down\"}", std::chrono::seconds(7)};
      }
      if (f.fail_posts > 0) {
        --f.fail_posts;
        return {500, "{\"message\":\"boom\"}"};
      }
      auto j = *k8s::parseJson(body);
      const auto& sa = j["serviceArguments"];
      std::string key = sa["externalIP"].get<std::string>() + ":" + std::to_string(sa["port"].get<int>()) +
                        "/" + sa["protocol"].get<std::string>();
      auto it = f.rules.find(key);
      if (it != f.rules.end() && it->second == j) return {409, "{\"result\":\"lbrule-exists error\"}"};
      f.rules[key] = j;
      return {200, "{\"result\":\"Success\"}"};
    }
    const std::string del = "/netlox/v1/config/loadbalancer/externalipaddress/";
    if (method == "DELETE" && path.rfind(del, 0) == 0) {
      // .../externalipaddress/IP/port/P/protocol/PROTO?bgp=false&block=0
      std::string rest = path.substr(del.size());
      std::string ip = rest.substr(0, rest.find('/'));
      rest = rest.substr(rest.find("/port/") + 6);
      std::string port = rest.substr(0, rest.find('/'));
      std::string proto = rest.substr(rest.find("/protocol/") + 10);
      proto = proto.substr(0, proto.find('?'));
      if (f.rules.erase(ip + ":" + port + "/" + proto) == 0) return {404, "{\"result\":\"no-rule error\"}"};
      return {200, "{\"result\":\"Success\"}"};
    }
    return {404, "{}"};
  }
  size_t count(size_t i, const std::string& prefix) const {
    size_t n = 0;
    for (const auto& l : inst.at(i).log) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  std::vector<FakeInstance> inst;
};

class FakeKube : public KubeWriter {
 public:
  std::map<std::string, k8s::Json> services;  // key -> object
  std::vector<k8s::Json> events;
  int conflicts = 0;  // next N updateService calls answer 409
  int rv = 100;
  int status_writes = 0, updates = 0, event_patches = 0;

  void put(k8s::Json obj) {
    obj["metadata"]["resourceVersion"] = std::to_string(++rv);
    if (!obj["metadata"].contains("namespace")) obj["metadata"]["namespace"] = "default";
    if (!obj["metadata"].contains("uid"))
      obj["metadata"]["uid"] = "uid-" + obj["metadata"]["name"].get<std::string>();
    services[k8s::objectKey(obj)] = obj;
  }
  // Pushes the current objects to the controller (what the watch does after a write).
  void deliver(Controller& c) {
    for (const auto& [k, o] : services) c.serviceChanged(o);
  }
  Result<k8s::Json> getService(const std::string& ns, const std::string& name) override {
    auto it = services.find(ns + "/" + name);
    if (it == services.end()) return makeError(ErrorCode::kNotFound, "not found");
    return it->second;
  }
  Status updateService(const k8s::Json& obj) override {
    auto it = services.find(k8s::objectKey(obj));
    if (it == services.end()) return makeError(ErrorCode::kNotFound, "not found");
    if (conflicts > 0 || k8s::resourceVersion(obj) != k8s::resourceVersion(it->second)) {
      if (conflicts > 0) {
        --conflicts;
        it->second["metadata"]["resourceVersion"] = std::to_string(++rv);
      }
      return makeError(ErrorCode::kConflict, "the object has been modified");
    }
    ++updates;
    k8s::Json next = obj;
    next["status"] = it->second["status"];
    next["metadata"]["resourceVersion"] = std::to_string(++rv);
    // Removing the last finalizer of a deleting object deletes it.
    if (next["metadata"].contains("deletionTimestamp") &&
        (!next["metadata"].contains("finalizers") || next["metadata"]["finalizers"].empty())) {
      services.erase(it);
      return okStatus();
    }
    it->second = next;
    return okStatus();
  }
  Status patchServiceStatus(const std::string& ns, const std::string& name, const k8s::Json& patch) override {
    auto it = services.find(ns + "/" + name);
    if (it == services.end()) return makeError(ErrorCode::kNotFound, "not found");
    ++status_writes;
    k8s::Json st = it->second.value("status", k8s::Json::object());
    st.merge_patch(patch["status"]);
    it->second["status"] = st;
    it->second["metadata"]["resourceVersion"] = std::to_string(++rv);
    return okStatus();
  }
  Status createEvent(const std::string&, const k8s::Json& ev) override {
    events.push_back(ev);
    return okStatus();
  }
  Status patchEvent(const std::string&, const std::string&, const k8s::Json&) override {
    ++event_patches;
    return okStatus();
  }
  bool hasEvent(const std::string& reason) const {
    for (const auto& e : events) {
      if (e["reason"] == reason) return true;
    }
    return false;
  }
  std::string eventMessage(const std::string& reason) const {
    for (const auto& e : events) {
      if (e["reason"] == reason) return e["message"].get<std::string>();
    }
    return "";
  }
};

}  // namespace floatlb::kube::testing
