#include "common/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace floatlb {

namespace {

Error ioError(const std::string& what, const std::string& path, int err) {
  return makeError(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

}  // namespace

Status writeAll(int fd, std::string_view text, const std::string& path) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("writing", path, errno);
    }
    off += static_cast<size_t>(n);
  }
  return okStatus();
}

Status writeFileAtomic(const std::string& path, std::string_view text) {
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(ErrorCode::kIo, "creating " + dir + ": " + ec.message());
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("opening", tmp, errno);
  if (auto s = writeAll(fd, text, tmp); !s.ok()) {
    ::close(fd);
    return s;
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return ioError("flushing", tmp, err);
  }
  if (::close(fd) != 0) return ioError("closing", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ioError("renaming", tmp, errno);
  // The rename itself is durable only once the directory is.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return okStatus();
}

Result<std::optional<std::string>> readFileIfExists(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return ioError("opening", path, errno);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ioError("reading", path, err);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

}  // namespace floatlb
