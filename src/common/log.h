// Minimal leveled logger: "2026-11-26T05:40:01.123Z INFO  [ha] message". Thread-safe; writes to
// stderr (and optionally a file). Use the FLB_LOG_* macros so disabled levels cost one compare.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace floatlb::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level* out);  // debug|info|warn|warning|error
void setFile(const std::string& path);               // additionally append to this file
void write(Level level, std::string_view component, std::string_view message);

}  // namespace floatlb::log

#define FLB_LOG(lvl, component, ...)                                                   \
  do {                                                                                 \
    if (static_cast<int>(lvl) >= static_cast<int>(::floatlb::log::level())) {         \
      ::floatlb::log::write(lvl, component, fmt::format(__VA_ARGS__));                 \
    }                                                                                  \
  } while (0)
#define FLB_DEBUG(component, ...) FLB_LOG(::floatlb::log::Level::kDebug, component, __VA_ARGS__)
#define FLB_INFO(component, ...) FLB_LOG(::floatlb::log::Level::kInfo, component, __VA_ARGS__)
#define FLB_WARN(component, ...) FLB_LOG(::floatlb::log::Level::kWarn, component, __VA_ARGS__)
#define FLB_ERROR(component, ...) FLB_LOG(::floatlb::log::Level::kError, component, __VA_ARGS__)
