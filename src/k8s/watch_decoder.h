// The watch stream decoder: one JSON object per event, each terminated by '\n'; curl's chunk
// boundaries are not event boundaries, so bytes are buffered across feed() calls. An event larger
// than the cap, or a line that is not an event, is an error (the caller re-watches).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "k8s/json.h"

namespace floatlb::k8s {

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  EventType type = EventType::kAdded;
  Json object;
};

Result<WatchEvent> parseWatchEvent(std::string_view line);

class WatchDecoder {
 public:
  explicit WatchDecoder(size_t max_event_bytes = 16u << 20) : max_(max_event_bytes) {}
  // Appends bytes; complete events go to `out`. An error poisons the decoder.
  Status feed(std::string_view bytes, std::vector<WatchEvent>& out);
  [[nodiscard]] size_t buffered() const { return buf_.size(); }

 private:
  size_t max_;
  std::string buf_;
  bool failed_ = false;
};

}  // namespace floatlb::k8s
