#include "rules.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

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

TEST_CASE("POST /jobs fields: payload, max_attempts and run_at") {
  using bookspace::core::ApiError;
  namespace json = boost::json;
  CHECK(payload_value(nullptr) == "{}");
  json::value v = nullptr;
  CHECK(payload_value(&v) == "{}");
  v = json::object{{"ids", json::array{"a"}}};
  CHECK(payload_value(&v) == R"({"ids":["a"]})");
  for (json::value bad : {json::value(1), json::value("x"), json::value(json::array{})})
    CHECK_THROWS_AS(payload_value(&bad), ApiError);
  v = json::object{{"big", std::string(max_payload_bytes, 'x')}};
  CHECK_THROWS_AS(payload_value(&v), ApiError);

  CHECK(max_attempts_value(nullptr, 5) == 5);
  v = 3;
  CHECK(max_attempts_value(&v, 5) == 3);
  for (json::value bad :
       {json::value(0), json::value(1'000'000'000), json::value(-1), json::value("3"), json::value(2.5)})
    CHECK_THROWS_AS(max_attempts_value(&bad, 5), ApiError);

  const std::int64_t now = 1'800'000'000'000;
  CHECK(run_at_value(nullptr, now) == now);
  v = "2030-01-01T00:00:00Z";
  CHECK(run_at_value(&v, now) == 1'893'456'000'000);
  v = "2000-01-01T00:00:00Z";
  CHECK(run_at_value(&v, now) == now);  // the past means now
  for (json::value bad : {json::value("tomorrow"), json::value(""), json::value(12345)})
    CHECK_THROWS_AS(run_at_value(&bad, now), ApiError);
}

TEST_CASE("stored errors are bounded, never cut inside a character") {
  CHECK(bounded_error("short") == "short");
  std::string long_text(max_error_bytes - 1, 'a');
  long_text += "\xC3\xA9\xC3\xA9";  // é é across the limit
  auto cut = bounded_error(long_text);
  CHECK(cut.size() == max_error_bytes - 1);
  CHECK(bounded_error(std::string(5000, 'b')).size() == max_error_bytes);
}
