#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace floatlb::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;
FILE* g_file = nullptr;

const char* levelName(Level l) {
  switch (l) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarn: return "WARN ";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void setLevel(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool parseLevel(std::string_view t, Level* out) {
  if (t == "debug" || t == "trace") *out = Level::kDebug;
  else if (t == "info" || t == "notice") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error" || t == "critical" || t == "alert" || t == "emergency") *out = Level::kError;
  else return false;
  return true;
}

void setFile(const std::string& path) {
  std::lock_guard lock(g_mu);
  if (g_file) std::fclose(g_file);
  g_file = std::fopen(path.c_str(), "a");
}

void write(Level l, std::string_view component, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  std::lock_guard lock(g_mu);
  std::fprintf(stderr, "%s %s [%.*s] %.*s\n", ts, levelName(l), static_cast<int>(component.size()),
               component.data(), static_cast<int>(message.size()), message.data());
  if (g_file) {
    std::fprintf(g_file, "%s %s [%.*s] %.*s\n", ts, levelName(l), static_cast<int>(component.size()),
                 component.data(), static_cast<int>(message.size()), message.data());
    std::fflush(g_file);
  }
}

}  // namespace floatlb::log
