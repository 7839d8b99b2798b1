#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bookspace::http {

/// A token-bucket policy: `burst` requests at once, refilled at `per_minute` per minute.
struct RateLimitPolicy {
  std::string name;  ///< "login_ip"; also the config key under rate_limits
  double per_minute = 60;
  double burst = 10;
};

struct RateLimitDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  int reset_s = 0;        ///< seconds until the bucket is full again
  int retry_after_s = 0;  ///< when refused: seconds until one token is back
};

/// Token buckets keyed by (policy, key), e.g. ("login_email", "a@b.c"). Memory is bounded:
/// past `max_keys` the buckets that are full again (idle) are dropped, then the oldest.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}

  RateLimitDecision take(RateLimitPolicy const& policy, std::string_view key,
                         Clock::time_point now = Clock::now());
  /// The decision take() would make, without taking anything. `remaining == limit` means the
  /// key has not been charged recently (its bucket is full).
  RateLimitDecision peek(RateLimitPolicy const& policy, std::string_view key,
                         Clock::time_point now = Clock::now()) const;
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void evict(Clock::time_point now);

  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace bookspace::http
