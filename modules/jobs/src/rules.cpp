#include "rules.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace bookspace::jobs {

std::int64_t backoff_ms(int attempt, std::int64_t base_ms, std::int64_t cap_ms, double unit) {
  const int doublings = std::clamp(attempt - 1, 0, 40);
  std::int64_t ceiling = base_ms;
  for (int i = 0; i < doublings && ceiling < cap_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap_ms);
  unit = std::clamp(unit, 0.0, 1.0);
  return static_cast<std::int64_t>(static_cast<double>(ceiling) * unit);
}

std::optional<std::int64_t> due_tick(CronSchedule const& schedule, std::int64_t last_tick_ms,
                                     std::int64_t created_ms, std::int64_t now_ms) {
  auto tick = schedule.next_after(last_tick_ms > 0 ? last_tick_ms : created_ms);
  if (!tick || *tick > now_ms) return std::nullopt;
  // Walk to the latest due tick; a schedule every minute over a month of downtime is ~43k steps.
  for (int i = 0; i < 1'000'000; ++i) {
    auto next = schedule.next_after(*tick);
    if (!next || *next > now_ms) break;
    tick = next;
  }
  return tick;
}

std::string payload_value(boost::json::value const* value) {
  if (!value || value->is_null()) return "{}";
  if (!value->is_object()) throw core::ApiError(core::Error::validation("payload", "must be a JSON object"));
  std::string text = boost::json::serialize(*value);
  if (text.size() > max_payload_bytes) {
    throw core::ApiError(core::ErrorCode::payload_too_large, "payload: at most 64 KiB");
  }
  return text;
}

int max_attempts_value(boost::json::value const* value, int fallback) {
  if (!value || value->is_null()) return fallback;
  if (!value->is_int64() || value->as_int64() < 1 || value->as_int64() > max_attempts_limit)
    throw core::ApiError(core::Error::validation("max_attempts", "must be an integer from 1 to 100"));
  return static_cast<int>(value->as_int64());
}

std::int64_t run_at_value(boost::json::value const* value, std::int64_t now) {
  if (!value || value->is_null()) return now;
  std::optional<core::TimeMs> at;
  if (value->is_string()) at = core::parse_rfc3339(value->as_string());
  if (!at) throw core::ApiError(core::Error::validation("run_at", "must be an RFC 3339 time"));
  return std::max<std::int64_t>(*at, now);
}

std::string bounded_error(std::string_view message) {
  if (message.size() <= max_error_bytes) return std::string(message);
  std::size_t cut = max_error_bytes;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
  return std::string(message.substr(0, cut));
}

}  // namespace bookspace::jobs
