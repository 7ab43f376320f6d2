#include "k8s/informer.h"

#include <algorithm>

namespace floatlb::k8s {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
constexpr Duration kMaxBackoff = seconds(30);
constexpr Duration kHealthyWatch = seconds(120);

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((std::isalnum(c) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool isTooLarge(int code, const Json& status) {
  if (code != 504) return false;
  std::string msg = str(member(status, "message"));
  return msg.find("Too large resource version") != std::string::npos ||
         str(member(status, "reason")) == "Timeout" || msg.empty();
}
}  // namespace

std::string InformerRequest::query() const {
  switch (kind) {
    case kList:
      if (!continue_token.empty()) return "limit=500&continue=" + urlEncode(continue_token);
      return "limit=500&resourceVersion=" + urlEncode(resource_version);
    case kWatch:
      return "allowWatchBookmarks=true&resourceVersion=" + urlEncode(resource_version) +
             "&timeoutSeconds=" + std::to_string(timeout_seconds) + "&watch=true";
    case kWait:
      return "";
  }
  return "";
}

Reflector::Reflector(const Clock& clock, uint32_t seed) : clock_(clock), rng_(seed) {}

InformerRequest Reflector::next() {
  if (phase_ == Phase::kWait) {
    if (clock_.now() < wait_until_) {
      InformerRequest r;
      r.kind = InformerRequest::kWait;
      r.until = wait_until_;
      return r;
    }
    phase_ = after_wait_;
  }
  InformerRequest r;
  if (phase_ == Phase::kList) {
    r.kind = InformerRequest::kList;
    r.resource_version = list_rv_;
    r.continue_token = continue_;
    return r;
  }
  r.kind = InformerRequest::kWatch;
  r.resource_version = rv_;
  timeout_s_ = 300 + static_cast<int>(rng_() % 301);
  r.timeout_seconds = timeout_s_;
  watch_started_ = clock_.now();
  watch_had_events_ = false;
  ++watches_;
  return r;
}

void Reflector::waitThen(Phase p, Duration d) {
  phase_ = Phase::kWait;
  after_wait_ = p;
  wait_until_ = clock_.now() + d;
}

void Reflector::relist() {
  list_rv_ = "";  // consistent read
  continue_.clear();
  pending_.clear();
  phase_ = Phase::kList;
}

void Reflector::fail(Duration at_least) {
  // Jitter: up to +25 %.
  auto jitter =
      Duration(static_cast<int64_t>(static_cast<double>(backoff_.count()) * (rng_() % 250) / 1000.0));
  waitThen(phase_ == Phase::kWait ? after_wait_ : phase_, std::max<Duration>(backoff_ + jitter, at_least));
  backoff_ = std::min<Duration>(backoff_ * 2, kMaxBackoff);
}

void Reflector::onList(int code, const Json& body, std::vector<Delta>& out, Duration retry_after) {
  if (code == 410) {
    relist();
    return;
  }
  if (code != 200 || !body.is_object()) {
    fail(retry_after);
    return;
  }
  if (const Json* items = member(body, "items"); items != nullptr && items->is_array()) {
    for (const auto& o : *items) pending_[objectKey(o)] = o;
  }
  std::string cont = str(path(body, {"metadata", "continue"}));
  if (!cont.empty()) {
    continue_ = cont;
    return;
  }
  ++lists_;
  continue_.clear();
  // Diff against the cache: synthesise deletes for keys that vanished (missed while away).
  for (const auto& [k, o] : cache_) {
    if (pending_.count(k) == 0) out.push_back({Delta::kDelete, k, o});
  }
  for (auto& [k, o] : pending_) {
    auto it = cache_.find(k);
    if (it == cache_.end() || k8s::resourceVersion(it->second) != k8s::resourceVersion(o))
      out.push_back({Delta::kUpsert, k, o});
  }
  cache_ = std::move(pending_);
  pending_.clear();
  rv_ = str(path(body, {"metadata", "resourceVersion"}));
  synced_ = true;
  too_large_ = 0;
  phase_ = Phase::kWatch;
}

void Reflector::onWatchEvent(const WatchEvent& ev, std::vector<Delta>& out) {
  watch_had_events_ = true;
  if (ev.type == EventType::kError) {
    int code = static_cast<int>(integer(member(ev.object, "code")).value_or(0));
    if (code == 410) {
      relist();
    } else if (isTooLarge(code, ev.object)) {
      if (++too_large_ >= 3) {
        relist();
      } else {
        waitThen(Phase::kWatch, seconds(1));
      }
    } else {
      fail();
    }
    return;
  }
  std::string rv = k8s::resourceVersion(ev.object);
  if (!rv.empty()) rv_ = rv;
  if (ev.type == EventType::kBookmark) return;
  std::string key = objectKey(ev.object);
  if (ev.type == EventType::kDeleted) {
    cache_.erase(key);
    out.push_back({Delta::kDelete, key, ev.object});
  } else {
    cache_[key] = ev.object;
    out.push_back({Delta::kUpsert, key, ev.object});
  }
}

void Reflector::onWatchEnd(WatchEnd why, int http_code, Duration retry_after) {
  if (phase_ != Phase::kWatch) return;  // an ERROR event already decided (relist / wait)
  if (clock_.now() - watch_started_ >= kHealthyWatch) backoff_ = milliseconds(800);
  if (http_code == 410) {
    relist();
    return;
  }
  if (http_code == 504) {
    if (++too_large_ >= 3) {
      relist();
    } else {
      waitThen(Phase::kWatch, seconds(1));
    }
    return;
  }
  if (http_code != 200 || why == WatchEnd::kDecodeError) {
    fail(retry_after);
    return;
  }
  // Clean end, reset or stall: re-watch from the last RV without a relist. A watch that ends at
  // once without delivering anything is treated as a failure so that a broken server is not hammered.
  if (!watch_had_events_ && clock_.now() - watch_started_ < seconds(1)) {
    fail();
    return;
  }
  phase_ = Phase::kWatch;
}

}  // namespace floatlb::k8s
