// List+watch as a pure state machine (kubernetes.md §2.2), the same wire pattern as client-go's
// reflector. The shell asks next() what to do (LIST page, WATCH, or wait), performs it and reports
// back; the machine keeps the cache (objects as JSON), the last resourceVersion and the backoff.
//  - first LIST with resourceVersion=0 (any), paged by `continue`; a 410 on a continue restarts it
//  - WATCH from the list RV with bookmarks; each event advances the RV (compared for equality only)
//  - clean end or connection reset -> re-WATCH from the last RV at once, no relist
//  - ERROR 410 (in the stream) or HTTP 410 -> relist with resourceVersion="" and synthesise
//    DELETED for cached keys that are gone
//  - 504 "Too large resource version" -> 1 s, 3 times, then relist
//  - other failures -> backoff 0.8 s x2 up to 30 s with jitter, reset after 2 min of healthy watch;
//    never less than a 429's Retry-After
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "k8s/json.h"
#include "k8s/watch_decoder.h"

namespace floatlb::k8s {

struct Delta {
  enum Kind { kUpsert, kDelete } kind = kUpsert;
  std::string key;
  Json object;  // last known state for deletes
};

struct InformerRequest {
  enum Kind { kList, kWatch, kWait } kind = kList;
  std::string resource_version;  // list: "0" or ""; watch: last RV
  std::string continue_token;
  int timeout_seconds = 0;  // watch
  TimePoint until{};        // wait
  // Query string for the request (without '?').
  [[nodiscard]] std::string query() const;
};

enum class WatchEnd { kClean, kReset, kStall, kDecodeError };

class Reflector {
 public:
  explicit Reflector(const Clock& clock, uint32_t seed = 1);

  InformerRequest next();
  // LIST answer: HTTP code and (for 200) the List object.
  // A 429/503's Retry-After (when given) is the least the machine waits before asking again.
  void onList(int http_code, const Json& body, std::vector<Delta>& out,
              Duration retry_after = Duration::zero());
  void onWatchEvent(const WatchEvent& ev, std::vector<Delta>& out);
  // The watch stream ended (code = HTTP status when the request itself failed, 200 otherwise).
  void onWatchEnd(WatchEnd why, int http_code = 200, Duration retry_after = Duration::zero());

  [[nodiscard]] bool synced() const { return synced_; }
  [[nodiscard]] const std::string& resourceVersion() const { return rv_; }
  [[nodiscard]] const std::map<std::string, Json>& cache() const { return cache_; }
  [[nodiscard]] int lists() const { return lists_; }
  [[nodiscard]] int watches() const { return watches_; }
  // No byte for this long on a watch => the shell closes it (WatchEnd::kStall).
  [[nodiscard]] Duration stallTimeout() const { return std::chrono::seconds(timeout_s_ + 30); }

 private:
  enum class Phase { kList, kWatch, kWait };
  void relist();
  void fail(Duration at_least = Duration::zero());
  void waitThen(Phase p, Duration d);

  const Clock& clock_;
  std::mt19937 rng_;
  Phase phase_ = Phase::kList;
  Phase after_wait_ = Phase::kList;
  TimePoint wait_until_{};
  std::string list_rv_ = "0";
  std::string continue_;
  std::map<std::string, Json> pending_;  // pages of the LIST in progress
  std::map<std::string, Json> cache_;
  std::string rv_;
  bool synced_ = false;
  int timeout_s_ = 300;
  Duration backoff_ = std::chrono::milliseconds(800);
  TimePoint watch_started_{};
  bool watch_had_events_ = false;
  int too_large_ = 0;
  int lists_ = 0, watches_ = 0;
};

}  // namespace floatlb::k8s
