#pragma once

// The password-reset mail's text (free of I/O; tests/rules_test.cpp).

#include "core/mailer.hpp"

#include <string>

namespace bookspace::auth {

struct ResetMailText {
  std::string link_template;  ///< auth.password_reset_url: "{token}" is replaced; empty: the token itself
  long long ttl_minutes = 30;
};

core::MailMessage reset_mail(ResetMailText const& text, std::string const& email, std::string const& token);

}  // namespace bookspace::auth
