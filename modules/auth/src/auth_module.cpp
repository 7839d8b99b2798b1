// The auth module's wiring: its parts (service.hpp, routes.hpp, token_authenticator.hpp…)
// built from the kernel's context, its event consumers and its descriptor.

#include "commands.hpp"
#include "login_throttle.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "settings.hpp"
#include "signing_key.hpp"
#include "stand_in.hpp"
#include "store.hpp"
#include "token_authenticator.hpp"

#include "app/module.hpp"
#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/auth/events.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <bookspace/migrations/auth.hpp>

namespace bookspace::auth {

namespace {

http::RateLimitPolicy per_minute(std::string name, std::int64_t n) {
  return {std::move(name), static_cast<double>(n), static_cast<double>(n)};
}

RouteLimits route_limits(AuthSettings::Limits const& l) {
  const auto per_hour = static_cast<double>(l.reset_per_email_per_hour);
  return {per_minute("register_ip", l.register_per_ip),
          per_minute("login_ip", l.login_per_ip),
          per_minute("refresh_ip", l.refresh_per_ip),
          per_minute("reset_ip", l.reset_per_ip),
          {"reset_email", per_hour / 60.0, per_hour}};
}

TokenAuthenticator::KeyLookup key_lookup(core::Database& db) {
  return [&db](std::string key, core::TimeMs now) -> core::Awaitable<std::optional<KeyOwner>> {
    co_return co_await db.run([&](soci::session& sql) { return find_key_owner(sql, key, now); });
  };
}

AccountInfo info_of(Account const& a) {
  return {a.id, a.email, a.display_name, a.role, a.disabled, a.created_at, a.updated_at};
}

/// Auth's public interface for other modules, over the service.
class AccountsAdapter final : public Accounts {
 public:
  explicit AccountsAdapter(AuthService& service) : service_(service) {}
  core::Awaitable<std::optional<AccountInfo>> find(std::string id) override {
    auto a = co_await service_.find(std::move(id));
    if (!a) co_return std::nullopt;
    co_return info_of(*a);
  }
  core::Awaitable<std::optional<AccountInfo>> update(std::string id, std::optional<std::string> role,
                                                     std::optional<bool> disabled) override {
    auto a = co_await service_.update(std::move(id), std::move(role), disabled);
    if (!a) co_return std::nullopt;
    co_return info_of(*a);
  }
  core::Awaitable<std::optional<AccountInfo>> rename(std::string id, std::string display_name) override {
    auto a = co_await service_.rename(std::move(id), std::move(display_name));
    if (!a) co_return std::nullopt;
    co_return info_of(*a);
  }

 private:
  AuthService& service_;
};

/// auth.refresh_per_session_per_minute over the kernel's rate limiter.
class SessionRefreshLimit final : public RefreshLimit {
 public:
  SessionRefreshLimit(http::RateLimiter& limiter, std::int64_t per_minute_n)
      : limiter_(limiter), policy_(per_minute("refresh_session", per_minute_n)) {}
  int wait_s(std::string const& session_id) override {
    auto d = limiter_.take(policy_, session_id);
    return d.allowed ? 0 : std::max(1, d.retry_after_s);
  }

 private:
  http::RateLimiter& limiter_;
  http::RateLimitPolicy policy_;
};

class AuthModule final : public app::Module {
 public:
  explicit AuthModule(app::ModuleContext& ctx)
      : ctx_(ctx),
        settings_(settings_from(ctx.config)),
        ring_(load_key_ring(ctx.config, ctx.data_dir, ctx.log)),
        authenticator_(std::shared_ptr<KeyRing const>(&ring_, [](KeyRing const*) {}), key_lookup(ctx.db),
                       settings_.tokens, ctx.clock),
        refresh_limit_(ctx.rate_limiter, settings_.limits.refresh_per_session),
        service_({ctx.db, ctx.events, ctx.cpu, ctx.clock, ctx.ids, ctx.log, ctx.metrics, ctx.mailer,
                  authenticator_, refresh_limit_, ctx.services.find<jobs::Queue>()},
                 ring_, settings_),
        login_throttle_(ctx.rate_limiter, settings_.limits.login_failures_per_email_and_ip,
                        settings_.limits.login_per_email),
        propagation_(ctx.db, ctx.scheduler, ctx.clock, ctx.log, ctx.ids.uuid_v7()),
        routes_{service_, propagation_, login_throttle_, ctx.rate_limiter, route_limits(settings_.limits)} {
    ctx.services.provide<http::Authenticator>(authenticator_);
    ctx.services.provide<Accounts>(accounts_);
    if (auto* queue = ctx.services.find<jobs::Queue>()) {
      jobs::TypeOptions options;
      options.max_attempts = reset_mail_attempts;
      options.timeout = std::chrono::minutes(2);
      options.summary =
          "mails a password reset (payload {account_id}); retried until the mail server takes it";
      queue->register_handler(
          std::string(reset_mail_job),
          [this](jobs::JobContext& job) -> boost::json::value {
            auto const* id = job.payload().if_contains("account_id");
            if (!id || !id->is_string()) throw std::invalid_argument("payload: account_id missing");
            const bool sent = service_.send_reset_mail(job.sql(), std::string(id->as_string()),
                                                       job.attempt() >= reset_mail_attempts);
            return boost::json::object{{"sent", sent}};
          },
          options);
    }
  }

  void register_routes(http::Router& router) override { add_routes(router, routes_); }
  boost::json::object openapi_schemas() const override { return auth::openapi_schemas(); }

  void subscribe(core::EventLog& events) override {
    // Other instances' revocations and account changes reach this instance's token cache.
    watch_revocations(events, authenticator_,
                      [this](std::string const& session_id) { propagation_.applied(session_id); });
  }

  void start() override {
    // Sessions revoked before this process started, whose access tokens may still be unexpired.
    const auto& t = settings_.tokens;
    const long long since = ctx_.clock.now_ms() - (t.lifetime_s + t.leeway_s) * 1000LL;
    auto revoked = ctx_.db.run_blocking([&](soci::session& sql) { return revoked_since(sql, since); });
    for (auto const& [id, at] : revoked) authenticator_.session_revoked(id, at);
    propagation_.start();
  }
  void stop() override { propagation_.stop(); }

 private:
  app::ModuleContext& ctx_;
  const AuthSettings settings_;
  const KeyRing ring_;
  TokenAuthenticator authenticator_;
  SessionRefreshLimit refresh_limit_;
  AuthService service_;
  AccountsAdapter accounts_{service_};
  LoginThrottle login_throttle_;
  RevocationPropagation propagation_;
  RouteDeps routes_;
};

}  // namespace

app::ModuleDescriptor auth_module() {
  return {
      .name = "auth",
      .summary = "accounts, passwords, access tokens, sessions",
      .uses = {"jobs"},  // with it, reset mails are durable jobs
      .provides = {app::interface<http::Authenticator>(), app::interface<Accounts>()},
      .migrations = &migrations::auth,
      .declare_config = &declare_config,
      .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
        return std::make_unique<AuthModule>(ctx);
      },
      .commands = {{"users create-admin",
                    "--email E: create an admin account (password from stdin, or generated)", &create_admin}},
      .stand_in = &auth_stand_in,
      .stand_in_key = "auth.jwks_url"};
}

}  // namespace bookspace::auth
