// The operator's side effects behind small interfaces: HTTP to the floatlb instances (synchronous
// for the rare role calls, asynchronous LbOps for rules, probes and drift lists) and writes to
// the Kubernetes API. The real ones live in apps/kube-floatlb's shell (src/operator/shell.cpp);
// tests use in-memory fakes.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "k8s/json.h"

namespace floatlb::kube {

struct HttpReply {
  int code = 0;  // 0 = no HTTP answer (connection refused, timeout)
  std::string body;
  Duration retry_after{};  // the server's Retry-After (429/503), zero when absent
};

// One request to one floatlb instance, done off the reconcile thread by that instance's worker
// (shell.cpp's LbWorkers; tests run them inline). Ops run in submission order per instance; a
// queued op is replaced in place by a newer one with the same key (latest intent wins), so a
// worker's queue holds at most one op per rule key plus the probe and the list.
struct LbOp {
  enum Kind { kProbe, kList, kPost, kDelete } kind = kProbe;
  size_t instance = 0;
  std::string key;  // rule key for kPost/kDelete, "probe" / "list" otherwise
  std::string method, path, body;
  Duration timeout{};
  uint64_t seq = 0;
};

struct LbResult {
  LbOp op;
  HttpReply reply;
};

class LbTransport {
 public:
  virtual ~LbTransport() = default;
  virtual HttpReply request(size_t instance, const std::string& method, const std::string& path,
                            const std::string& body, Duration timeout) = 0;
};

class KubeWriter {
 public:
  virtual ~KubeWriter() = default;
  virtual Result<k8s::Json> getService(const std::string& ns, const std::string& name) = 0;
  // PUT with metadata.resourceVersion; kConflict on 409, kNotFound on 404.
  virtual Status updateService(const k8s::Json& obj) = 0;
  // merge-patch on /status.
  virtual Status patchServiceStatus(const std::string& ns, const std::string& name,
                                    const k8s::Json& patch) = 0;
  virtual Status createEvent(const std::string& ns, const k8s::Json& event) = 0;
  virtual Status patchEvent(const std::string& ns, const std::string& name, const k8s::Json& patch) = 0;
  // After a failed write: how long the API server asked us to wait (429/503 Retry-After), else zero.
  virtual Duration retryAfter() { return Duration::zero(); }
};

// One write to the Kubernetes API, done off the reconcile thread by the shell's writer pool
// (tests run them inline). Ops with the same key run in submission order, never concurrently.
struct KubeOp {
  enum Kind { kAddFinalizer, kRemoveFinalizer, kStatus, kEvent, kEventPatch } kind = kStatus;
  std::string key;  // serialisation key: the Service key ("<key>#event" for its Events)
  std::string ns, name;
  k8s::Json body;    // the Service as last seen (finalizer ops), the patch, or the Event
  std::string text;  // finalizer ops: the finalizer; kStatus: the note of the Normal event after it
  uint64_t seq = 0;
};

struct KubeResult {
  KubeOp op;
  Status status = okStatus();
  std::optional<k8s::Json> object;  // finalizer ops: the Service as written
  Duration retry_after{};           // the API's Retry-After after a 429
};

// Performs one op: the finalizer edits are PUTs of the object as read (unknown fields kept) with
// its resourceVersion, re-read and retried on 409 up to 5 times.
KubeResult performKubeOp(KubeWriter& w, KubeOp op);

}  // namespace floatlb::kube
