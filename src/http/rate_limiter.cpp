#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace bookspace::http {

RateLimitDecision RateLimiter::take(RateLimitPolicy const& policy, std::string_view key,
                                    Clock::time_point now) {
  const double rate_per_s = policy.per_minute / 60.0;
  std::string id = policy.name;
  id += '\0';
  id += key;
  std::lock_guard lock(mutex_);
  if (buckets_.size() >= max_keys_ && !buckets_.contains(id)) evict(now);
  auto [it, inserted] = buckets_.try_emplace(std::move(id), Bucket{policy.burst, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(policy.burst, b.tokens + std::max(0.0, elapsed) * rate_per_s);
  b.updated = now;
  RateLimitDecision d;
  d.limit = static_cast<int>(policy.burst);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
  } else {
    d.allowed = false;
    d.retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_per_s)));
  }
  d.remaining = static_cast<int>(std::floor(b.tokens));
  d.reset_s = static_cast<int>(std::ceil((policy.burst - b.tokens) / rate_per_s));
  return d;
}

RateLimitDecision RateLimiter::peek(RateLimitPolicy const& policy, std::string_view key,
                                    Clock::time_point now) const {
  const double rate_per_s = policy.per_minute / 60.0;
  std::string id = policy.name;
  id += '\0';
  id += key;
  double tokens = policy.burst;
  {
    std::lock_guard lock(mutex_);
    if (auto it = buckets_.find(id); it != buckets_.end()) {
      const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
      tokens = std::min(policy.burst, it->second.tokens + std::max(0.0, elapsed) * rate_per_s);
    }
  }
  RateLimitDecision d;
  d.limit = static_cast<int>(policy.burst);
  d.allowed = tokens >= 1.0;
  if (!d.allowed) d.retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - tokens) / rate_per_s)));
  d.remaining = static_cast<int>(std::floor(tokens));
  d.reset_s = static_cast<int>(std::ceil((policy.burst - tokens) / rate_per_s));
  return d;
}

std::size_t RateLimiter::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void RateLimiter::evict(Clock::time_point now) {
  // Buckets untouched for ten minutes are full again for any sane policy: forget them.
  std::erase_if(buckets_, [&](auto const& kv) { return now - kv.second.updated > std::chrono::minutes(10); });
  if (buckets_.size() < max_keys_) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](auto const& a, auto const& b) {
    return a.second.updated < b.second.updated;
  });
  if (oldest != buckets_.end()) buckets_.erase(oldest);
}

}  // namespace bookspace::http
