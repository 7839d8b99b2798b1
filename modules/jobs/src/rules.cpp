#include "rules.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"

#include <boost/json/parse.hpp>
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

std::optional<ScheduleEntry> parse_schedule_entry(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ScheduleEntry> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  auto skip = [&](std::size_t i) {
    while (i < text.size() && is_space(text[i])) ++i;
    return i;
  };
  auto word_end = [&](std::size_t i) {
    while (i < text.size() && !is_space(text[i])) ++i;
    return i;
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return fail("expected \"<name>: <cron> <job type> [payload]\"");
  ScheduleEntry e;
  e.name = std::string(text.substr(0, colon));
  if (e.name.empty() || e.name.size() > 100 ||
      e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    return fail("a schedule name is 1–100 of a-z 0-9 . _ -");
  std::size_t i = skip(colon + 1);
  const std::size_t cron_start = i;
  const int fields = i < text.size() && text[i] == '@' ? 1 : 5;
  for (int f = 0; f < fields; ++f) {
    if (i >= text.size()) return fail("the cron expression needs five fields (or one @macro)");
    i = skip(word_end(i));
  }
  std::string why;
  auto schedule = CronSchedule::parse(text.substr(cron_start, i - cron_start), &why);
  if (!schedule) return fail("cron expression: " + why);
  e.schedule = *schedule;
  const std::size_t type_end = word_end(i);
  e.type = std::string(text.substr(i, type_end - i));
  if (e.type.empty()) return fail("a job type follows the cron expression");
  const std::size_t rest = skip(type_end);
  if (rest < text.size()) {
    boost::system::error_code ec;
    auto payload = boost::json::parse(text.substr(rest), ec);
    if (ec || !payload.is_object()) return fail("the payload must be a JSON object");
    e.payload = boost::json::serialize(payload);
  }
  return e;
}

}  // namespace bookspace::jobs
