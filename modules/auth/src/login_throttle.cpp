#include "login_throttle.hpp"

#include <algorithm>

namespace bookspace::auth {

namespace {
std::string pair_key(std::string const& email, std::string const& ip) {
  return email + '\0' + ip;
}
}  // namespace

LoginThrottle::LoginThrottle(http::RateLimiter& limiter, int per_pair, int per_email)
    : limiter_(limiter),
      per_pair_{"login_failures_email_ip", static_cast<double>(per_pair), static_cast<double>(per_pair)},
      per_email_{"login_failures_email", static_cast<double>(per_email), static_cast<double>(per_email)} {}

int LoginThrottle::wait_s(std::string const& email, std::string const& ip) const {
  const auto pair = limiter_.peek(per_pair_, pair_key(email, ip));
  if (!pair.allowed) return pair.retry_after_s;
  const bool clean = pair.remaining == pair.limit;
  const auto all = limiter_.peek(per_email_, email);
  if (!all.allowed && !clean) return all.retry_after_s;
  return 0;
}

void LoginThrottle::failed(std::string const& email, std::string const& ip) {
  limiter_.take(per_pair_, pair_key(email, ip));
  limiter_.take(per_email_, email);
}

}  // namespace bookspace::auth
