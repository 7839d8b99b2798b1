#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// Latency histogram in seconds with fixed buckets (5 ms … 10 s, Prometheus' defaults plus
/// finer ones at the low end where this server lives).
class Histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  void observe(double seconds);
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

/// Prometheus text exposition. Series are created on first use and live as long as the
/// registry; the hot path keeps the returned reference.
class Metrics {
 public:
  /// `labels` is the inside of the braces, already escaped: `route="/x",method="GET"`.
  Counter& counter(std::string const& name, std::string const& help, std::string const& labels = "");
  Histogram& histogram(std::string const& name, std::string const& help, std::string const& labels = "");
  /// A value read at scrape time. `fn` appends `name{labels} value` lines for its series.
  void collector(std::string const& name, std::string const& help, std::string const& type,
                 std::function<void(std::string& out)> fn);

  std::string render() const;

  /// Escapes a label value (\, ", newline).
  static std::string escape(std::string_view value);

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::vector<std::function<void(std::string&)>> collectors;
  };
  Family& family(std::string const& name, std::string const& help, std::string const& type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

/// Appends one sample line.
void append_sample(std::string& out, std::string_view name, std::string_view labels, double value);

}  // namespace bookspace::core
