// kube-floatlb's process shell: the real ports (libcurl to the floatlb instances, the Kubernetes
// API through src/k8s), the informer and leader-election threads, /metrics and /healthz, and the
// loop that feeds the Controller. Everything that decides lives in Controller.
#pragma once

#include <atomic>

#include "operator/options.h"

namespace floatlb::kube {

// Runs until `stop` becomes true; returns the process exit code.
int runOperator(const Options& o, const std::atomic<bool>& stop);

}  // namespace floatlb::kube
