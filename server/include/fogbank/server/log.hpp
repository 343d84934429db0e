#pragma once
// A tiny leveled logger to stderr. Thread-safe (one write(2) per line).

#include <string_view>

namespace fogbank::server::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
/// "debug" | "info" | "warn" | "error"; false on anything else.
bool set_level(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warn(std::string_view m) { write(Level::kWarn, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

}  // namespace fogbank::server::log
