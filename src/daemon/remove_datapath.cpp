#include <cstdio>

#include "daemon/daemon.h"
#include "dataplane/libbpf_datapath.h"

namespace floatlb::daemon {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "none" : out;
}

}  // namespace

int removeDatapath(const Options& options) {
  auto removed = dataplane::LibbpfDatapath::removeFromHost(options.bpf_pin_dir);
  if (!removed) {
    std::fprintf(stderr, "floatlb: cannot remove the datapath: %s\n", removed.error().message.c_str());
    return 1;
  }
  std::printf("floatlb: detached from %zu interface(s) (%s); removed %zu pinned map(s) under %s\n",
              removed->detached.size(), joined(removed->detached).c_str(), removed->unpinned.size(),
              options.bpf_pin_dir.c_str());
  return 0;
}

}  // namespace floatlb::daemon
