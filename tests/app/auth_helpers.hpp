#pragma once

// Helpers shared by the whole-application tests of auth and users.

#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bookspace::testing {

/// Every auth rate limit raised out of the way (tests that check a limit lower that one again).
inline TestApp::Tweak generous(std::function<void(app::Config&)> more = {}) {
  return [more](app::Config& c) {
    for (auto const* key :
         {"auth.login_per_ip_per_minute", "auth.login_per_email_per_minute",
          "auth.login_failures_per_email_and_ip_per_minute", "auth.register_per_ip_per_minute",
          "auth.refresh_per_ip_per_minute", "auth.refresh_per_session_per_minute",
          "auth.password_reset_per_ip_per_minute", "auth.password_reset_per_email_per_hour"}) {
      c.set(key, 100000);
    }
    if (more) more(c);
  };
}

inline std::vector<app::ModuleDescriptor> auth_only() {
  return {auth::auth_module()};
}

/// A string field of a JSON response.
inline std::string str(HttpResponse const& r, char const* key) {
  return std::string(r.json().at(key).as_string());
}

inline std::map<std::string, std::string> bearer(std::string const& token) {
  return {{"Authorization", "Bearer " + token}};
}

inline HttpResponse register_user(HttpClient& c, std::string const& email,
                                  std::string const& password = "correct horse battery") {
  return c.post_json("/api/v1/auth/register", {{"email", email}, {"password", password}});
}

}  // namespace bookspace::testing
