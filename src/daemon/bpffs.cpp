#include "daemon/bpffs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.h"
#include "common/strings.h"

namespace floatlb::daemon {

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr const char* kDefaultRoot = "/sys/fs/bpf";

// The nearest existing directory at or above `path`.
std::string existingAncestor(std::string path) {
  std::error_code ec;
  while (!path.empty() && !std::filesystem::is_directory(path, ec)) {
    auto slash = path.find_last_of('/');
    path = slash == 0 ? "/" : (slash == std::string::npos ? "" : path.substr(0, slash));
  }
  return path.empty() ? "/" : path;
}

bool onBpffs(const std::string& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kBpfFsMagic;
}

}  // namespace

Status ensureBpffs(const std::string& pin_dir) {
  if (onBpffs(existingAncestor(pin_dir))) return okStatus();
  const bool under_default = startsWith(pin_dir, std::string(kDefaultRoot) + "/") || pin_dir == kDefaultRoot;
  if (!under_default) {
    return makeError(
        ErrorCode::kUnavailable,
        "--bpf-pin-dir " + pin_dir + " is not on a bpf filesystem; run: mount -t bpf bpf <dir above it>");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(kDefaultRoot, ec)) {
    return makeError(ErrorCode::kUnavailable,
                     std::string(kDefaultRoot) +
                         " does not exist (is sysfs mounted?); run: mount -t sysfs sysfs "
                         "/sys && mount -t bpf bpf /sys/fs/bpf");
  }
  if (::mount("bpf", kDefaultRoot, "bpf", 0, "mode=0700") != 0) {
    return makeError(ErrorCode::kUnavailable, std::string("bpffs is not mounted at ") + kDefaultRoot +
                                                  " and mounting it failed (" + std::strerror(errno) +
                                                  "); run: mount -t bpf bpf /sys/fs/bpf");
  }
  FLB_INFO("main", "mounted bpffs at {} (it was missing)", kDefaultRoot);
  return okStatus();
}

}  // namespace floatlb::daemon
