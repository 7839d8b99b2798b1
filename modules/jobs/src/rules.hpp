#pragma once

// The jobs module's decisions free of I/O (unit-tested in tests/rules_test.cpp).

#include "cron.hpp"

#include <cstdint>
#include <optional>

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

}  // namespace bookspace::jobs
