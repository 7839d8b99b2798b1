#pragma once

#include <boost/json/object.hpp>

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace bookspace::core {

enum class LogLevel { debug, info, warn, error, off };

/// Parses "debug", "info", "warn", "error" or "off"; returns false for anything else.
bool parse_log_level(std::string_view text, LogLevel& out);
std::string_view to_string(LogLevel level);

/// Writes one JSON object per line (`ts`, `level`, `msg`, then the given fields) to a sink,
/// stderr by default. Thread-safe; each line is a single write.
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});

  bool enabled(LogLevel level) const { return level >= level_ && level_ != LogLevel::off; }
  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }

  void log(LogLevel level, std::string_view msg, boost::json::object fields = {});
  void debug(std::string_view msg, boost::json::object fields = {}) {
    log(LogLevel::debug, msg, std::move(fields));
  }
  void info(std::string_view msg, boost::json::object fields = {}) {
    log(LogLevel::info, msg, std::move(fields));
  }
  void warn(std::string_view msg, boost::json::object fields = {}) {
    log(LogLevel::warn, msg, std::move(fields));
  }
  void error(std::string_view msg, boost::json::object fields = {}) {
    log(LogLevel::error, msg, std::move(fields));
  }

 private:
  LogLevel level_;
  Sink sink_;
  std::mutex mutex_;
};

}  // namespace bookspace::core
