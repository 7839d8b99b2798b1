#include "rules.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace bookspace::jobs;

TEST_CASE("backoff: full jitter under a doubling ceiling, capped") {
  CHECK(backoff_ms(1, 1000, 3'600'000, 0.0) == 0);
  CHECK(backoff_ms(1, 1000, 3'600'000, 0.999) == 999);
  CHECK(backoff_ms(2, 1000, 3'600'000, 0.5) == 1000);
  CHECK(backoff_ms(4, 1000, 3'600'000, 0.5) == 4000);
  CHECK(backoff_ms(30, 1000, 3'600'000, 0.5) == 1'800'000);  // capped at 1 h
  CHECK(backoff_ms(1'000'000, 1000, 3'600'000, 1.0) == 3'600'000);
  CHECK(backoff_ms(0, 1000, 3'600'000, 0.5) == 500);  // out-of-range attempts are clamped
}

TEST_CASE("cron catch-up: one run for many missed ticks, none before the first is due") {
  auto every_minute = CronSchedule::parse("* * * * *");
  REQUIRE(every_minute);
  const std::int64_t t0 = 1'800'000'000'000;  // a whole minute
  CHECK_FALSE(due_tick(*every_minute, 0, t0, t0 + 30'000));
  CHECK(*due_tick(*every_minute, 0, t0, t0 + 60'000) == t0 + 60'000);
  // Ten ticks missed during an outage: only the latest is due.
  CHECK(*due_tick(*every_minute, t0 + 60'000, t0, t0 + 11 * 60'000 + 5'000) == t0 + 11 * 60'000);
  // The tick already enqueued is not due again.
  CHECK_FALSE(due_tick(*every_minute, t0 + 11 * 60'000, t0, t0 + 11 * 60'000 + 5'000));
}
