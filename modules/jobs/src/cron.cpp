#include "cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <vector>

namespace bookspace::jobs {

namespace {

struct Field {
  int min, max;
  std::array<std::string_view, 13> names;  ///< names[i] is the value min + i (months: 1-based)
};

constexpr Field minute_field{0, 59, {}};
constexpr Field hour_field{0, 23, {}};
constexpr Field day_field{1, 31, {}};
constexpr Field month_field{
    1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
constexpr Field weekday_field{0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<int> value_of(std::string_view text, Field const& f) {
  if (text.empty()) return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (n < f.min || n > f.max) return std::nullopt;
    return n;
  }
  const std::string name = lower(text);
  for (std::size_t i = 0; i < f.names.size(); ++i) {
    if (!f.names[i].empty() && f.names[i] == name) return f.min + static_cast<int>(i);
  }
  return std::nullopt;
}

/// One field into `bits` (index = value); false when malformed. `star` tells whether it was `*`.
template <std::size_t N>
bool parse_field(std::string_view text, Field const& f, std::bitset<N>& bits, bool& star) {
  star = text == "*";
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    std::string_view part =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.empty()) return false;
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = part.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 1 || step > f.max)
        return false;
      part = part.substr(0, slash);
    }
    int lo = f.min, hi = f.max;
    if (part != "*") {
      const auto dash = part.find('-');
      auto a = value_of(part.substr(0, dash), f);
      if (!a) return false;
      lo = hi = *a;
      if (dash != std::string_view::npos) {
        auto b = value_of(part.substr(dash + 1), f);
        if (!b || *b < *a) return false;
        hi = *b;
      } else if (step != 1) {
        hi = f.max;  // "a/n": from a to the end, as Vixie cron reads it
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

std::string_view expand_macro(std::string_view e) {
  if (e == "@yearly" || e == "@annually") return "0 0 1 1 *";
  if (e == "@monthly") return "0 0 1 * *";
  if (e == "@weekly") return "0 0 * * 0";
  if (e == "@daily" || e == "@midnight") return "0 0 * * *";
  if (e == "@hourly") return "0 * * * *";
  return e;
}

std::vector<std::string_view> split_fields(std::string_view e) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < e.size()) {
    while (i < e.size() && (e[i] == ' ' || e[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < e.size() && e[j] != ' ' && e[j] != '\t') ++j;
    if (j > i) out.push_back(e.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view expression, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<CronSchedule> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const std::string lowered = lower(expression);
  auto fields = split_fields(expand_macro(lowered));
  if (fields.size() != 5) return fail("needs five fields: minute hour day-of-month month day-of-week");
  CronSchedule s;
  bool star = false;
  std::bitset<8> weekdays;
  if (!parse_field(fields[0], minute_field, s.minutes_, star)) return fail("minute: 0-59");
  if (!parse_field(fields[1], hour_field, s.hours_, star)) return fail("hour: 0-23");
  if (!parse_field(fields[2], day_field, s.days_, s.any_day_)) return fail("day of month: 1-31");
  if (!parse_field(fields[3], month_field, s.months_, star)) return fail("month: 1-12 or jan-dec");
  if (!parse_field(fields[4], weekday_field, weekdays, s.any_weekday_))
    return fail("day of week: 0-7 or sun-sat");
  for (std::size_t d = 0; d < 7; ++d) s.weekdays_[d] = weekdays[d];
  if (weekdays[7]) s.weekdays_.set(0);  // 7 is Sunday too
  return s;
}

bool CronSchedule::day_matches(int day, int month, int year) const {
  using namespace std::chrono;
  const auto date = year_month_day{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                   std::chrono::day{static_cast<unsigned>(day)}};
  const unsigned weekday = std::chrono::weekday{sys_days{date}}.c_encoding();
  const bool by_day = days_[static_cast<std::size_t>(day)];
  const bool by_weekday = weekdays_[weekday];
  if (any_day_ && any_weekday_) return true;
  if (any_day_) return by_weekday;
  if (any_weekday_) return by_day;
  return by_day || by_weekday;
}

bool CronSchedule::matches(std::int64_t at_ms) const {
  using namespace std::chrono;
  const sys_time<minutes> t = floor<minutes>(sys_time<milliseconds>{milliseconds{at_ms}});
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return minutes_[static_cast<std::size_t>(hms.minutes().count())] &&
         hours_[static_cast<std::size_t>(hms.hours().count())] && months_[unsigned(ymd.month())] &&
         day_matches(static_cast<int>(unsigned(ymd.day())), static_cast<int>(unsigned(ymd.month())),
                     int(ymd.year()));
}

std::optional<std::int64_t> CronSchedule::next_after(std::int64_t after_ms) const {
  using namespace std::chrono;
  auto t = floor<minutes>(sys_time<milliseconds>{milliseconds{after_ms}}) + minutes{1};
  const auto limit = t + days{366 * 8};
  while (t < limit) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    // Whole days (and months) that cannot match are skipped at once.
    if (!months_[unsigned(ymd.month())] ||
        !day_matches(static_cast<int>(unsigned(ymd.day())), static_cast<int>(unsigned(ymd.month())),
                     int(ymd.year()))) {
      t = day + days{1};
      continue;
    }
    const hh_mm_ss hms{t - day};
    if (!hours_[static_cast<std::size_t>(hms.hours().count())]) {
      t = floor<hours>(t) + hours{1};
      continue;
    }
    if (minutes_[static_cast<std::size_t>(hms.minutes().count())])
      return duration_cast<milliseconds>(t.time_since_epoch()).count();
    t += minutes{1};
  }
  return std::nullopt;
}

}  // namespace bookspace::jobs
