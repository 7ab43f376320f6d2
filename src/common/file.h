// Small durable-file helpers for state a restarted process must find again (the HA epoch, rule
// snapshots): a replace that is atomic and on disk before it returns, and a read that tells
// "absent" from "unreadable".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace floatlb {

// Writes `text` to `path` through `path.tmp` + fsync + rename + fsync of the directory, creating
// the directory if needed: a crash leaves either the old or the new content, never a torn file.
Status writeFileAtomic(const std::string& path, std::string_view text);

// Writes all of `text` to fd (retrying short writes and EINTR); `path` names it in the error.
Status writeAll(int fd, std::string_view text, const std::string& path);

// The file's content; nullopt if it does not exist; an error if it exists but cannot be read.
Result<std::optional<std::string>> readFileIfExists(const std::string& path);

}  // namespace floatlb
