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
  if (!given || given->empty()) {
    ctx.err << "usage: bookspace users create-admin --email EMAIL\n"
               "  the password is asked for twice on a terminal, read from stdin otherwise; empty: one is\n"
               "  generated and printed\n";
    return 2;
  }
  std::string email;
  try {
    email = normalize_email(*given);
  } catch (core::ApiError const&) {
    ctx.err << "bookspace users create-admin: --email must be an email address\n";
    return 2;
  }
  std::string password;
  if (ctx.read_secret)
    password = ctx.read_secret("Password for " + email + " (empty: generate one): ");
  else
    std::getline(ctx.in, password);
  if (ctx.terminal && ctx.read_secret && !password.empty() && ctx.read_secret("Again: ") != password) {
    ctx.err << "bookspace users create-admin: the passwords differ; nothing was created\n";
    return 2;
  }
  const bool generated = password.empty();
  if (generated) password = KeyRing::new_seed().substr(0, 24);
  if (auto problem = password_problem(password)) {
    ctx.err << "bookspace users create-admin: the password " << *problem << "\n";
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
    ctx.err << "bookspace users create-admin: " << e.error().detail << "\n";
    return 1;
  }
  ctx.out << "created admin " << account.email << " (" << account.id << ")\n";
  if (generated) ctx.out << "password: " << password << "\n";
  return 0;
}

}  // namespace bookspace::auth
