#include "core/log.hpp"

#include "core/json_writer.hpp"

#include "core/clock.hpp"
#include "core/log_writer.hpp"

#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <charconv>

namespace bookspace::core {

bool parse_log_level(std::string_view text, LogLevel& out) {
  static constexpr std::pair<std::string_view, LogLevel> names[] = {{"debug", LogLevel::debug},
                                                                    {"info", LogLevel::info},
                                                                    {"warn", LogLevel::warn},
                                                                    {"error", LogLevel::error},
                                                                    {"off", LogLevel::off}};
  for (auto const& [name, level] : names) {
    if (name == text) {
      out = level;
      return true;
    }
  }
  return false;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "info";
}

Logger::Logger(LogLevel level, Sink sink) : level_(level), sink_(std::move(sink)) {}

Logger::Logger(LogLevel level, LogWriter& writer) : level_(level), writer_(&writer) {}

std::uint64_t Logger::dropped() const {
  return writer_ ? writer_->dropped() : 0;
}

LogLine::LogLine(LogLevel level, std::string_view msg) : level_(level) {
  text_.reserve(320);
  text_ += "{\"ts\":\"";
  append_rfc3339(text_, SystemClock{}.now_ms());
  text_ += "\",\"level\":\"";
  text_ += to_string(level);
  text_ += "\",\"msg\":";
  append_json_string(text_, msg);
}

void LogLine::key(std::string_view k) {
  text_.push_back(',');
  append_json_string(text_, k);
  text_.push_back(':');
}

LogLine& LogLine::field(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(text_, value);
  return *this;
}

LogLine& LogLine::field(std::string_view k, std::int64_t value) {
  key(k);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  text_.append(buf, end);
  return *this;
}

LogLine& LogLine::json(std::string_view k, boost::json::value const& value) {
  if (value.is_string()) return field(k, std::string_view(value.as_string()));
  if (value.is_int64()) return field(k, value.as_int64());
  key(k);
  text_ += boost::json::serialize(value);
  return *this;
}

std::string& LogLine::finish() {
  text_ += "}\n";
  return text_;
}

void Logger::write(LogLine& line) {
  if (!enabled(line.level())) return;
  emit(line.level(), line.finish());
}

void Logger::log(LogLevel level, std::string_view msg, boost::json::object const& fields) {
  if (!enabled(level)) return;
  LogLine line(level, msg);
  for (auto const& f : fields) line.json(f.key(), f.value());
  emit(level, line.finish());
}

void Logger::emit(LogLevel level, std::string_view text) {
  if (writer_) {
    writer_->append(text, level >= LogLevel::warn);
    return;
  }
  std::lock_guard lock(mutex_);
  if (sink_) {
    sink_(text);
    return;
  }
  // One write per line keeps lines whole when several processes share stderr.
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace bookspace::core
