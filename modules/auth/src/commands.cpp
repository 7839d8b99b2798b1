#include "commands.hpp"

#include "passwords.hpp"
#include "rules.hpp"
#include "service.hpp"
#include "settings.hpp"

#include "app/module.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"

#include <istream>
#include <ostream>

namespace bookspace::auth {

namespace {

/// The --email value, or nullopt on anything else (a usage error).
std::optional<std::string> email_arg(std::vector<std::string> const& args) {
  std::string email;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--email" && i + 1 < args.size())
      email = args[++i];
    else if (args[i].starts_with("--email="))
      email = args[i].substr(8);
    else
      return std::nullopt;
  }
  return email;
}

}  // namespace

int create_admin(app::CommandContext& ctx) {
  auto given = email_arg(ctx.args);
  if (!given) {
    ctx.out << "usage: bookspace users create-admin --email EMAIL  (password on stdin, or generated)\n";
    return 2;
  }
  std::string email;
  try {
    email = normalize_email(*given);
  } catch (core::ApiError const&) {
    ctx.out << "users create-admin: --email must be an email address\n";
    return 2;
  }
  std::string password;
  std::getline(ctx.in, password);
  const bool generated = password.empty();
  if (generated) password = KeyRing::new_seed().substr(0, 24);
  if (auto problem = password_problem(password)) {
    ctx.out << "users create-admin: password " << *problem << "\n";
    return 2;
  }
  const long long now = ctx.clock.now_ms();
  Account account{ctx.ids.uuid_v7(),
                  email,
                  hash_password(password, settings_from(ctx.config).hash_cost),
                  display_name_or_default("", email),
                  "admin",
                  false,
                  now,
                  now};
  try {
    ctx.db.run_blocking([&](soci::session& sql) {
      core::run_transaction(sql, ctx.db.dialect(),
                            [&](core::Tx& tx) { add_account(tx, ctx.events, account); });
    });
  } catch (core::ApiError const& e) {
    ctx.out << "users create-admin: " << e.error().detail << "\n";
    return 1;
  }
  ctx.out << "created admin " << account.email << " (" << account.id << ")\n";
  if (generated) ctx.out << "password: " << password << "\n";
  return 0;
}

}  // namespace bookspace::auth
