#pragma once

#include "http/rate_limiter.hpp"

#include <string>

namespace bookspace::auth {

/// Login failures are counted per (email, client IP) and per email. A client that keeps failing
/// is refused (429) at its own (email, IP) limit; the much higher per-email ceiling slows a
/// guessing attack spread over many addresses, yet never locks the owner out: a client with no
/// recent failure for that email is still let through to try its password (OWASP Authentication
/// Cheat Sheet, "account lockout" vs denial of service). Only failures count, so signing in
/// often never throttles anyone.
class LoginThrottle {
 public:
  LoginThrottle(http::RateLimiter& limiter, int failures_per_email_and_ip_per_minute,
                int failures_per_email_per_minute);

  /// 0 when `ip` may try a password for `email` now, else the seconds to wait.
  int wait_s(std::string const& email, std::string const& ip) const;
  /// Records a failed attempt (wrong password, unknown email, disabled account).
  void failed(std::string const& email, std::string const& ip);

 private:
  http::RateLimiter& limiter_;
  http::RateLimitPolicy per_pair_;
  http::RateLimitPolicy per_email_;
};

}  // namespace bookspace::auth
