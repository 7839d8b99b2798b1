#include "rules.hpp"

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

}  // namespace bookspace::jobs
