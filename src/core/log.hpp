#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
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

class LogWriter;

/// One log line built field by field straight into its text: for lines written per request,
/// where building a JSON object first would cost more than the rest of the request.
/// `LogLine line(LogLevel::info, "request"); line.field("status", 200); log.write(line);`
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view msg);
  LogLine& field(std::string_view key, std::string_view value);
  LogLine& field(std::string_view key, char const* value) { return field(key, std::string_view(value)); }
  LogLine& field(std::string_view key, std::int64_t value);
  LogLine& field(std::string_view key, int value) { return field(key, static_cast<std::int64_t>(value)); }
  LogLine& field(std::string_view key, std::size_t value) {
    return field(key, static_cast<std::int64_t>(value));
  }
  /// Any JSON value (objects, arrays, doubles…), serialized.
  LogLine& json(std::string_view key, boost::json::value const& value);
  LogLevel level() const { return level_; }
  /// The finished line, newline included.
  std::string& finish();

 private:
  void key(std::string_view k);
  LogLevel level_;
  std::string text_;
};

/// Writes one JSON object per line (`ts`, `level`, `msg`, then the given fields). Thread-safe.
/// Three destinations: a LogWriter (the server: buffered, written by a thread of its own, never
/// blocking the caller), a sink (tests: synchronous), or else stderr with one write per line
/// (short-lived commands).
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});
  /// Lines go to `writer`, which must outlive the logger.
  Logger(LogLevel level, LogWriter& writer);

  /// Lines dropped because the writer's buffer was full.
  std::uint64_t dropped() const;

  bool enabled(LogLevel level) const { return level >= level_ && level_ != LogLevel::off; }
  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }

  void log(LogLevel level, std::string_view msg, boost::json::object const& fields = {});
  /// Writes a line built with LogLine (check enabled() before building it).
  void write(LogLine& line);
  void debug(std::string_view msg, boost::json::object const& fields = {}) {
    log(LogLevel::debug, msg, fields);
  }
  void info(std::string_view msg, boost::json::object const& fields = {}) {
    log(LogLevel::info, msg, fields);
  }
  void warn(std::string_view msg, boost::json::object const& fields = {}) {
    log(LogLevel::warn, msg, fields);
  }
  void error(std::string_view msg, boost::json::object const& fields = {}) {
    log(LogLevel::error, msg, fields);
  }

 private:
  LogLevel level_;
  Sink sink_;
  LogWriter* writer_ = nullptr;
  void emit(LogLevel level, std::string_view text);
  std::mutex mutex_;
};

}  // namespace bookspace::core
