#include "daemon/system_adapters.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/json_codec.h"

namespace floatlb::daemon {

Result<Ip4> KernelSourceResolver::sourceFor(Ip4 dst) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(9);
  sa.sin_addr.s_addr = dst.networkOrder();
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, "no route to " + dst.str() + ": " + std::strerror(err));
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  int rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  ::close(fd);
  if (rc != 0) return makeError(ErrorCode::kIo, std::string("getsockname: ") + std::strerror(errno));
  return Ip4::fromNetwork(local.sin_addr.s_addr);
}

FileRuleStore::FileRuleStore(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

Status FileRuleStore::save(const std::vector<lb::StoredRule>& rules) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return makeError(ErrorCode::kIo, "creating " + dir_ + ": " + ec.message());
  const std::string tmp = path() + ".tmp";
  const std::string text = api::encodeRuleFile(rules);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return makeError(ErrorCode::kIo, "opening " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return makeError(ErrorCode::kIo, "writing " + tmp + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return makeError(ErrorCode::kIo, "flushing " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path().c_str()) != 0) {
    return makeError(ErrorCode::kIo, "renaming " + tmp + ": " + std::strerror(errno));
  }
  return okStatus();
}

Result<std::vector<lb::StoredRule>> FileRuleStore::load() const {
  std::ifstream in(path());
  if (!in) return std::vector<lb::StoredRule>{};
  std::stringstream ss;
  ss << in.rdbuf();
  auto rules = api::parseRuleFile(ss.str());
  if (!rules) return rules.error().wrap(path());
  return rules;
}

}  // namespace floatlb::daemon
