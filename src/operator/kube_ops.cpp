// performKubeOp: the Kubernetes writes the controller asks for (ports.h), run by the shell's
// writer threads or inline by tests.
#include "operator/ports.h"

namespace floatlb::kube {

using k8s::Json;

namespace {

Result<Json> editFinalizer(KubeWriter& w, const KubeOp& op, bool add) {
  Json cur = op.body;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!cur.contains("apiVersion")) cur["apiVersion"] = "v1";  // list items carry no kind
    if (!cur.contains("kind")) cur["kind"] = "Service";
    Json& md = cur["metadata"];
    Json list = Json::array();
    bool present = false;
    if (const Json* f = k8s::member(md, "finalizers"); f != nullptr && f->is_array()) {
      for (const auto& v : *f) {
        if (v.is_string() && v.get<std::string>() == op.text) {
          present = true;
          if (!add) continue;
        }
        list.push_back(v);
      }
    }
    if (add == present) return cur;
    if (add) list.push_back(op.text);
    md["finalizers"] = list;
    Status s = w.updateService(cur);
    if (s.ok()) return cur;
    if (s.error().code != ErrorCode::kConflict) return s.error();
    auto fresh = w.getService(op.ns, op.name);
    if (!fresh) return fresh.error();
    cur = *fresh;
  }
  return makeError(ErrorCode::kConflict, "finalizer update kept conflicting");
}

}  // namespace

KubeResult performKubeOp(KubeWriter& w, KubeOp op) {
  KubeResult r;
  switch (op.kind) {
    case KubeOp::kAddFinalizer:
    case KubeOp::kRemoveFinalizer: {
      auto obj = editFinalizer(w, op, op.kind == KubeOp::kAddFinalizer);
      if (obj) {
        r.object = std::move(*obj);
      } else {
        r.status = obj.error();
      }
      break;
    }
    case KubeOp::kStatus:
      r.status = w.patchServiceStatus(op.ns, op.name, op.body);
      break;
    case KubeOp::kEvent:
      r.status = w.createEvent(op.ns, op.body);
      break;
    case KubeOp::kEventPatch:
      r.status = w.patchEvent(op.ns, op.name, op.body);
      break;
  }
  if (!r.status.ok()) r.retry_after = w.retryAfter();
  r.op = std::move(op);
  return r;
}

}  // namespace floatlb::kube
