#include "cron.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using bookspace::jobs::CronSchedule;

namespace {

/// ms since the epoch of a UTC date and time.
std::int64_t at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{mo} / day{d}};
  return duration_cast<milliseconds>((date + hours{h} + minutes{mi}).time_since_epoch()).count();
}

std::int64_t next(std::string_view expr, std::int64_t after) {
  auto s = CronSchedule::parse(expr);
  REQUIRE(s);
  auto n = s->next_after(after);
  REQUIRE(n);
  return *n;
}

}  // namespace

TEST_CASE("cron: every minute, steps, ranges and lists") {
  CHECK(next("* * * * *", at(2026, 11, 23, 10, 5)) == at(2026, 11, 23, 10, 6));
  CHECK(next("* * * * *", at(2026, 11, 23, 10, 5) + 59'999) == at(2026, 11, 23, 10, 6));
  CHECK(next("*/15 * * * *", at(2026, 11, 23, 10, 5)) == at(2026, 11, 23, 10, 15));
  CHECK(next("*/15 * * * *", at(2026, 11, 23, 10, 45)) == at(2026, 11, 23, 11, 0));
  CHECK(next("5/20 * * * *", at(2026, 11, 23, 10, 30)) == at(2026, 11, 23, 10, 45));
  CHECK(next("0 9-17/4 * * *", at(2026, 11, 23, 13, 0)) == at(2026, 11, 23, 17, 0));
  CHECK(next("0 9-17/4 * * *", at(2026, 11, 23, 17, 0)) == at(2026, 11, 24, 9, 0));
  CHECK(next("10,40 3 * * *", at(2026, 11, 23, 3, 10)) == at(2026, 11, 23, 3, 40));
}

TEST_CASE("cron: days, months, weekdays and their names") {
  CHECK(next("0 0 1 * *", at(2026, 11, 23)) == at(2026, 12, 1));
  CHECK(next("0 0 1 jan *", at(2026, 11, 23)) == at(2027, 1, 1));
  CHECK(next("0 12 * * MON", at(2026, 11, 23, 12, 0)) == at(2026, 11, 30, 12, 0));  // 23 Nov 2026 is a Monday
  CHECK(next("0 0 * * 7", at(2026, 11, 23)) == at(2026, 11, 29));                   // 7 = Sunday
  CHECK(next("0 0 * * 6-7", at(2026, 11, 23)) == at(2026, 11, 28));  // a range through 7 (Sunday)
  CHECK(next("0 0 * * sat,sun", at(2026, 11, 23)) == at(2026, 11, 28));
  CHECK(next("0 0 29 2 *", at(2026, 3, 1)) == at(2028, 2, 29));  // the next leap day
  // Both day fields restricted: either matches (Vixie cron).
  CHECK(next("0 0 13 * fri", at(2026, 11, 23)) == at(2026, 11, 27));
  CHECK(next("0 0 1 * mon", at(2026, 11, 24)) == at(2026, 11, 30));
}

TEST_CASE("cron: macros and matches()") {
  CHECK(next("@hourly", at(2026, 11, 23, 10, 5)) == at(2026, 11, 23, 11, 0));
  CHECK(next("@daily", at(2026, 11, 23, 10, 5)) == at(2026, 11, 24));
  CHECK(next("@weekly", at(2026, 11, 23)) == at(2026, 11, 29));
  CHECK(next("@monthly", at(2026, 11, 23)) == at(2026, 12, 1));
  CHECK(next("@yearly", at(2026, 11, 23)) == at(2027, 1, 1));
  auto s = CronSchedule::parse("30 4 * * *");
  REQUIRE(s);
  CHECK(s->matches(at(2026, 11, 23, 4, 30) + 59'000));
  CHECK_FALSE(s->matches(at(2026, 11, 23, 4, 31)));
}

TEST_CASE("cron: impossible dates find nothing; malformed expressions say why") {
  auto never = CronSchedule::parse("0 0 30 2 *");
  REQUIRE(never);
  CHECK_FALSE(never->next_after(at(2026, 1, 1)));
  for (std::string_view bad :
       {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "5-1 * * * *", "1,,2 * * * *", "x * * * *", "* * * foo *", "@every5m",
        "1- * * * *", "* * * * sat-sun"}) {
    std::string why;
    CHECK_MESSAGE(!CronSchedule::parse(bad, &why), bad);
    if (!bad.empty()) CHECK_FALSE(why.empty());
  }
}
