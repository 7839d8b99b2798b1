#pragma once

// The jobs module's decisions free of I/O (unit-tested in tests/rules_test.cpp).

#include "cron.hpp"

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::jobs {

/// The wait before the next attempt after `attempt` (1-based) failed: "full jitter" — uniform in
/// [0, min(cap, base · 2^(attempt−1))] — so that jobs failing together do not retry together.
/// `unit` is a random number in [0, 1) (given, so the rule stays deterministic under test).
std::int64_t backoff_ms(int attempt, std::int64_t base_ms, std::int64_t cap_ms, double unit);

/// The tick of `schedule` to enqueue now, given the last tick enqueued (0: none yet, then only a
/// tick after `created_ms` counts): the latest tick in (last, now], or nullopt when none is due.
/// Ticks missed during downtime therefore run once, as the most recent of them, not N times.
std::optional<std::int64_t> due_tick(CronSchedule const& schedule, std::int64_t last_tick_ms,
                                     std::int64_t created_ms, std::int64_t now_ms);

inline constexpr int max_attempts_limit = 100;
inline constexpr std::size_t max_payload_bytes = 64 * 1024;
inline constexpr std::size_t max_error_bytes = 2000;

/// POST /jobs `payload`: absent or null → "{}", else a JSON object of at most 64 KiB serialized.
/// Throws ApiError (400 on `payload`; 413 beyond the size).
std::string payload_value(boost::json::value const* value);
/// `max_attempts`: absent or null → `fallback` (the type's default), else 1–100. Throws ApiError.
int max_attempts_value(boost::json::value const* value, int fallback);
/// `run_at`: absent or null → `now`, else an RFC 3339 time (a past one means now). Throws ApiError.
std::int64_t run_at_value(boost::json::value const* value, std::int64_t now);
/// A handler's error as stored in `last_error` and the attempt history: at most 2,000 bytes, cut
/// at a UTF-8 character boundary.
std::string bounded_error(std::string_view message);

/// One entry of `jobs.schedules`: "<name>: <cron expression> <job type> [payload JSON object]",
/// e.g. "nightly-export: 0 3 * * * documents.export {\"document_ids\":[]}". The expression is five
/// fields or one @macro; the name is [a-z0-9._-].
struct ScheduleEntry {
  std::string name;
  CronSchedule schedule;
  std::string type;
  std::string payload = "{}";  ///< a JSON object, serialized
};
/// nullopt with `error` set for anything else.
std::optional<ScheduleEntry> parse_schedule_entry(std::string_view text, std::string* error);

}  // namespace bookspace::jobs
