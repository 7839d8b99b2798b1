#pragma once

// Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC, for
// jobs.schedules. Debian packages no C or C++ cron parser, so this is a small one, fully tested
// (tests/cron_test.cpp). Supported per field: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`,
// lists `a,b-c` (a range runs upwards: `sat-sun` is refused, `6-7` or `sat,sun` say it); month and weekday
// names (`jan`, `mon`, any case); weekday 7 = Sunday; the macros @yearly @annually @monthly @weekly @daily
// @midnight @hourly. As in Vixie cron, when both day-of-month and day-of-week are restricted a day matching
// either one fires.

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::jobs {

class CronSchedule {
 public:
  /// nullopt, with the reason in `error`, for anything that is not a valid expression.
  static std::optional<CronSchedule> parse(std::string_view expression, std::string* error = nullptr);

  /// The first minute strictly after `after_ms` (ms since the epoch, UTC) that matches, as ms
  /// since the epoch; nullopt when none does within eight years (e.g. "0 0 30 2 *").
  std::optional<std::int64_t> next_after(std::int64_t after_ms) const;
  /// Whether the minute that contains `at_ms` matches.
  bool matches(std::int64_t at_ms) const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     ///< 1–31
  std::bitset<13> months_;   ///< 1–12
  std::bitset<7> weekdays_;  ///< 0 = Sunday
  bool any_day_ = true;      ///< day-of-month is `*`
  bool any_weekday_ = true;  ///< day-of-week is `*`

  bool day_matches(int day, int month, int year) const;
};

}  // namespace bookspace::jobs
