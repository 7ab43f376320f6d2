#include "k8s/watch_decoder.h"

namespace floatlb::k8s {

Result<WatchEvent> parseWatchEvent(std::string_view line) {
  auto j = parseJson(line);
  if (!j || !j->is_object()) return makeError(ErrorCode::kInvalidArgument, "watch event is not a JSON object");
  std::string type = str(member(*j, "type"));
  const Json* obj = member(*j, "object");
  if (obj == nullptr || !obj->is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "watch event '" + type + "' has no object");
  }
  WatchEvent ev;
  if (type == "ADDED") {
    ev.type = EventType::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = EventType::kModified;
  } else if (type == "DELETED") {
    ev.type = EventType::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = EventType::kBookmark;
  } else if (type == "ERROR") {
    ev.type = EventType::kError;
  } else {
    return makeError(ErrorCode::kInvalidArgument, "unknown watch event type '" + type.substr(0, 32) + "'");
  }
  ev.object = std::move(*obj);
  return ev;
}

Status WatchDecoder::feed(std::string_view bytes, std::vector<WatchEvent>& out) {
  if (failed_) return makeError(ErrorCode::kInvalidArgument, "watch stream already failed");
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    std::string_view piece = bytes.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (buf_.size() + piece.size() > max_) {
      failed_ = true;
      return makeError(ErrorCode::kResourceExhausted, "watch event larger than " + std::to_string(max_) + " bytes");
    }
    buf_.append(piece);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
    std::string line = std::move(buf_);
    buf_.clear();
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    auto ev = parseWatchEvent(line);
    if (!ev) {
      failed_ = true;
      return ev.error();
    }
    out.push_back(std::move(*ev));
  }
  return okStatus();
}

}  // namespace floatlb::k8s
