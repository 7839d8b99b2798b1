#include "reset_mail.hpp"

namespace bookspace::auth {

core::MailMessage reset_mail(ResetMailText const& text, std::string const& email, std::string const& token) {
  std::string body =
      "Someone asked to reset the password of the BookSpace account " + email + ".\n\nIf that was you, ";
  if (auto at = text.link_template.find("{token}"); at != std::string::npos) {
    std::string link = text.link_template;
    link.replace(at, 7, token);
    body += "open this link to choose a new password:\n\n  " + link + "\n\n";
  } else {
    body +=
        "use this reset token to choose a new password\n(POST /api/v1/auth/password-reset/confirm):\n\n  " +
        token + "\n\n";
  }
  body += "It works once, within " + std::to_string(text.ttl_minutes) +
          " minutes, and signs you out everywhere.\nIf it was not you, ignore this mail: your password stays "
          "as it is.\n";
  return {email, "Reset your BookSpace password", std::move(body)};
}

}  // namespace bookspace::auth
