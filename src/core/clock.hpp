#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::core {

/// Milliseconds since the Unix epoch, UTC. Stored as BIGINT in both databases.
using TimeMs = std::int64_t;

/// Source of wall-clock time; injected so tests can control it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs now_ms() const override;
};

/// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs now_ms() const override { return now_; }
  void advance(TimeMs ms) { now_ += ms; }

 private:
  TimeMs now_;
};

/// "2026-11-22T10:00:00.000Z"
std::string format_rfc3339(TimeMs ms);
/// format_rfc3339 appended to `out` (no allocation of its own).
void append_rfc3339(std::string& out, TimeMs ms);
/// Accepts RFC 3339 with `Z` or a numeric offset and optional fractional seconds.
std::optional<TimeMs> parse_rfc3339(std::string_view text);

}  // namespace bookspace::core
