// The operator's side effects behind small interfaces: HTTP to the floatlb instances and writes to
// the Kubernetes API. The real ones live in apps/kube-floatlb's shell (src/operator/shell.cpp);
// tests use in-memory fakes.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "k8s/json.h"

namespace floatlb::kube {

struct HttpReply {
  int code = 0;  // 0 = no HTTP answer (connection refused, timeout)
  std::string body;
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
};

}  // namespace floatlb::kube
