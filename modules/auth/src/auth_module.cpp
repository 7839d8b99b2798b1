#include "auth_service.hpp"
#include "login_throttle.hpp"
#include "token_authenticator.hpp"

#include "app/module.hpp"
#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/log.hpp"
#include "core/mailer.hpp"
#include "core/metrics.hpp"
#include "core/sql.hpp"
#include "core/text.hpp"
#include "core/worker_pool.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/auth/events.hpp>
#include <bookspace/users/events.hpp>

#include <soci/soci.h>
#include <bookspace/migrations/auth.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>

namespace bookspace::auth {

namespace json = boost::json;
using core::ApiError;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view recent_revocations_sql =
    "SELECT id, revoked_at FROM auth_sessions WHERE revoked_at IS NOT NULL AND revoked_at > :since";

/// The signing key: auth.signing_key when configured, else a key generated once into
/// <data_dir>/auth-signing-key (mode 0600) and reused on every start.
std::string load_or_create_seed(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  if (auto configured = config.str("auth.signing_key"); !configured.empty()) return configured;
  const std::filesystem::path path = std::filesystem::path(data_dir) / "auth-signing-key";
  std::filesystem::create_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    std::string seed = KeyRing::new_seed();
    const bool written =
        ::write(fd, seed.data(), seed.size()) == static_cast<ssize_t>(seed.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + path.string());
    log.info("generated a new token signing key", {{"path", path.string()}});
    return seed;
  }
  std::ifstream in(path);
  std::string seed;
  in >> seed;
  if (seed.empty()) throw std::runtime_error("cannot read " + path.string());
  return seed;
}

http::RateLimitPolicy per_minute(std::string name, std::int64_t n) {
  return {std::move(name), static_cast<double>(n), static_cast<double>(n)};
}

http::RateLimitPolicy per_hour(std::string name, std::int64_t n) {
  return {std::move(name), static_cast<double>(n) / 60.0, static_cast<double>(n)};
}

namespace oa = http::openapi;

http::RouteOptions documented(http::RouteOptions options, json::object operation) {
  options.openapi = std::move(operation);
  return options;
}

/// `?limit=` and `?cursor=` of a newest-first list of `kind`.
ListPage list_page(Request const& req, std::string_view kind) {
  ListPage page;
  page.limit = http::list_limit(req);
  if (auto cursor = http::cursor_param(req, kind)) {
    page.before_created_at = http::integer_key(*cursor);
    page.before_id = cursor->id;
  }
  return page;
}

json::value api_key_json(ApiKeyInfo const& k) {
  return {
      {"id", k.id},
      {"name", k.name},
      {"created_at", core::format_rfc3339(k.created_at)},
      {"expires_at", k.expires_at ? json::value(core::format_rfc3339(*k.expires_at)) : json::value(nullptr)}};
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

 private:
  AuthService& service_;
};

constexpr std::string_view update_display_name_sql =
    "UPDATE auth_accounts SET display_name = :name WHERE id = :id";

class AuthModule final : public app::Module {
 public:
  explicit AuthModule(app::ModuleContext& ctx)
      : ctx_(ctx),
        service_(ctx.db, ctx.events, ctx.cpu, ctx.clock, ctx.ids, ctx.log, make_ring(ctx),
                 settings(ctx.config), ctx.metrics),
        authenticator_(service_, ctx.clock),
        login_throttle_(
            ctx.rate_limiter,
            static_cast<int>(ctx.config.integer("auth.login_failures_per_email_and_ip_per_minute")),
            static_cast<int>(ctx.config.integer("auth.login_per_email_per_minute"))),
        refresh_per_session_(
            per_minute("refresh_session", ctx.config.integer("auth.refresh_per_session_per_minute"))),
        reset_per_email_(
            per_hour("reset_email", ctx.config.integer("auth.password_reset_per_email_per_hour"))) {
    service_.on_revoked = [this](std::string const& sid, core::TimeMs at) {
      authenticator_.revoked(sid, at);
    };
    service_.on_key_revoked = [this](std::string const& hash) { authenticator_.key_revoked(hash); };
    service_.refresh_throttle = [this](std::string const& session_id) {
      auto d = ctx_.rate_limiter.take(refresh_per_session_, session_id);
      return d.allowed ? 0 : std::max(1, d.retry_after_s);
    };
    service_.on_reset_requested = [this](std::string const& email, std::string const& token) {
      ctx_.mailer.send(reset_mail(email, token));
    };
    ctx.services.provide<http::Authenticator>(authenticator_);
    ctx.services.provide<Accounts>(accounts_);
  }

  void register_routes(http::Router& r) override {
    auto const& cfg = ctx_.config;
    http::RouteOptions open;
    open.auth = http::Auth::none;
    auto limited = [&](std::string name, char const* key) {
      http::RouteOptions o = open;
      o.rate_limit = per_minute(std::move(name), cfg.integer(key));
      return o;
    };
    const int ttl = service_.settings().tokens.lifetime_s;

    r.add(
        Method::post, "/api/v1/auth/register",
        [this, ttl](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"email", "password", "display_name"});
          std::string email = normalize_email(http::string_field(body, "email"));
          std::string password = http::string_field(body, "password");
          if (auto problem = password_problem(password))
            throw ApiError(core::Error::validation("password", *problem));
          std::string name = http::string_field(body, "display_name", false);
          if (name.empty()) name = email.substr(0, email.find('@'));
          if (auto problem = core::name_problem(name, 1, 100))
            throw ApiError(core::Error::validation("display_name", *problem));
          auto issued = co_await service_.register_account(email, password, name, client(req));
          co_return Response::json(201, issued.to_json(ttl, true));
        },
        documented(limited("register_ip", "auth.register_per_ip_per_minute"),
                   oa::operation("Create an account; signs in.",
                                 {{"201", oa::json_response("Signed in.", oa::ref("TokenPairWithUser"))}},
                                 oa::object({{"email", oa::string()},
                                             {"password", oa::string()},
                                             {"display_name", oa::string()}},
                                            {"email", "password"}))));

    r.add(
        Method::post, "/api/v1/auth/login",
        [this, ttl](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"email", "password"});
          std::string password = http::string_field(body, "password");
          std::string given = http::string_field(body, "email");  // wrong types: 400 on the field
          std::string email;
          try {
            email = normalize_email(given);
          } catch (ApiError const&) {
            // A string that is not an address can match no account: the same answer as a wrong
            // password, so login does not double as an address validator.
            throw ApiError(core::ErrorCode::invalid_credentials, "The email or password is not correct.");
          }
          if (int wait = login_throttle_.wait_s(email, req.ctx.client_ip); wait > 0) {
            core::Error error{core::ErrorCode::rate_limited, "Too many failed logins; try again later.", {}};
            error.retry_after_s = wait;
            throw ApiError(std::move(error));
          }
          std::optional<Issued> issued;
          try {
            issued = co_await service_.login(email, password, client(req));
          } catch (ApiError const& e) {
            if (e.error().code == core::ErrorCode::invalid_credentials)
              login_throttle_.failed(email, req.ctx.client_ip);
            throw;
          }
          co_return Response::json(200, issued->to_json(ttl, true));
        },
        documented(limited("login_ip", "auth.login_per_ip_per_minute"),
                   oa::operation("Sign in with email and password.",
                                 {{"200", oa::json_response("Signed in.", oa::ref("TokenPairWithUser"))}},
                                 oa::object({{"email", oa::string()}, {"password", oa::string()}},
                                            {"email", "password"}))));

    r.add(
        Method::post, "/api/v1/auth/refresh",
        [this, ttl](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"refresh_token"});
          auto issued = co_await service_.refresh(http::string_field(body, "refresh_token"));
          co_return Response::json(200, issued.to_json(ttl, false));
        },
        documented(limited("refresh_ip", "auth.refresh_per_ip_per_minute"),
                   oa::operation("Exchange a refresh token for a new pair (rotation).",
                                 {{"200", oa::json_response("New tokens.", oa::ref("TokenPair"))}},
                                 oa::object({{"refresh_token", oa::string()}}, {"refresh_token"}))));

    r.add(
        Method::post, "/api/v1/auth/password-reset",
        [this](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"email"});
          std::string email = normalize_email(http::string_field(body, "email"));
          if (auto d = ctx_.rate_limiter.take(reset_per_email_, email); !d.allowed) {
            core::Error error{core::ErrorCode::rate_limited, "Too many reset requests for this email.", {}};
            error.retry_after_s = d.retry_after_s;
            throw ApiError(std::move(error));
          }
          service_.request_password_reset(std::move(email));
          co_return Response{202, {}, {}};  // the same whether or not the email has an account
        },
        documented(limited("reset_ip", "auth.password_reset_per_ip_per_minute"),
                   oa::operation("Mail a password-reset token (202 whether or not the email has an account).",
                                 {{"202", oa::empty_response("Accepted.")}},
                                 oa::object({{"email", oa::string()}}, {"email"}))));

    r.add(
        Method::post, "/api/v1/auth/password-reset/confirm",
        [this](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"token", "new_password"});
          std::string token = http::string_field(body, "token");
          std::string next = http::string_field(body, "new_password");
          if (token.empty() || token.size() > 256)
            throw ApiError(
                core::Error::validation("token", "is invalid, used or expired; request a new one"));
          if (auto problem = password_problem(next))
            throw ApiError(core::Error::validation("new_password", *problem));
          co_await service_.confirm_password_reset(std::move(token), std::move(next));
          co_return Response::no_content();
        },
        documented(limited("reset_confirm_ip", "auth.password_reset_per_ip_per_minute"),
                   oa::operation("Set a new password with a reset token; signs out everywhere.",
                                 {{"204", oa::empty_response("Password changed.")}},
                                 oa::object({{"token", oa::string()}, {"new_password", oa::string()}},
                                            {"token", "new_password"}))));

    r.add(
        Method::post, "/api/v1/auth/logout",
        [this](Request& req) -> core::Awaitable<Response> {
          if (!req.body.empty()) {
            auto body = http::parse_json_object(req);
            http::only_fields(body, {"refresh_token"});
            http::string_field(body, "refresh_token", false);  // optional, but a string when given
          }
          auto const& p = req.ctx.principal;
          co_await service_.revoke_session(p.user_id, p.session_id);
          co_return Response::no_content();
        },
        documented({}, oa::operation("Sign out: revoke this session.",
                                     {{"204", oa::empty_response("Signed out.")}})));

    r.add(
        Method::post, "/api/v1/auth/password",
        [this](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"current_password", "new_password"});
          std::string current = http::string_field(body, "current_password");
          std::string next = http::string_field(body, "new_password");
          if (auto problem = password_problem(next))
            throw ApiError(core::Error::validation("new_password", *problem));
          auto const& p = req.ctx.principal;
          co_await service_.change_password(p.user_id, p.session_id, current, next);
          co_return Response::no_content();
        },
        documented(
            {}, oa::operation("Change the password; revokes every other session.",
                              {{"204", oa::empty_response("Password changed.")}},
                              oa::object({{"current_password", oa::string()}, {"new_password", oa::string()}},
                                         {"current_password", "new_password"}))));

    r.add(
        Method::post, "/api/v1/auth/api-keys",
        [this](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          http::only_fields(body, {"name", "expires_in_days"});
          std::string name = http::string_field(body, "name");
          if (auto problem = core::name_problem(name, 1, 100))
            throw ApiError(core::Error::validation("name", *problem));
          int days = 0;
          if (auto const* v = body.if_contains("expires_in_days"); v && !v->is_null()) {
            if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > 3650) {
              throw ApiError(core::Error::validation("expires_in_days", "must be an integer from 1 to 3650"));
            }
            days = static_cast<int>(v->as_int64());
          }
          auto created = co_await service_.create_api_key(req.ctx.principal.user_id, name, days);
          Response res = Response::json(201, created);
          res.headers.add("Cache-Control", "no-store");
          co_return res;
        },
        documented({}, oa::operation("Create an API key (the key is shown once).",
                                     {{"201", oa::json_response("Created.", oa::ref("ApiKeyCreated"))}},
                                     oa::object({{"name", oa::string()}, {"expires_in_days", oa::integer()}},
                                                {"name"}))));

    r.add(
        Method::get, "/api/v1/auth/api-keys",
        [this](Request& req) -> core::Awaitable<Response> {
          const ListPage at = list_page(req, "api_keys");
          auto items = co_await service_.api_keys(req.ctx.principal.user_id, at);
          co_return http::page(std::move(items), at.limit, api_key_json, [](ApiKeyInfo const& k) {
            return http::Cursor{"api_keys", std::to_string(k.created_at), k.id};
          });
        },
        documented(
            {}, oa::operation("List your API keys (never the keys themselves).",
                              {{"200", oa::json_response("Your keys.", oa::list_of(oa::ref("ApiKey")))}})));

    r.add(
        Method::del, "/api/v1/auth/api-keys/{id}",
        [this](Request& req) -> core::Awaitable<Response> {
          co_await service_.revoke_api_key(req.ctx.principal.user_id, std::string(req.param("id")));
          co_return Response::no_content();
        },
        documented({}, oa::operation("Revoke an API key.", {{"204", oa::empty_response("Revoked.")}})));

    r.add(
        Method::get, "/api/v1/auth/sessions",
        [this](Request& req) -> core::Awaitable<Response> {
          auto const& p = req.ctx.principal;
          const ListPage at = list_page(req, "sessions");
          auto items = co_await service_.sessions(p.user_id, at);
          co_return http::page(
              std::move(items), at.limit,
              [current = p.session_id](SessionInfo const& s) -> json::value {
                return {{"id", s.id},
                        {"created_at", core::format_rfc3339(s.created_at)},
                        {"last_used_at", core::format_rfc3339(s.last_used_at)},
                        {"user_agent", s.user_agent},
                        {"ip", s.ip},
                        {"current", s.id == current}};
              },
              [](SessionInfo const& s) {
                return http::Cursor{"sessions", std::to_string(s.created_at), s.id};
              });
        },
        documented({}, oa::operation(
                           "List your live sessions.",
                           {{"200", oa::json_response("Your sessions.", oa::list_of(oa::ref("Session")))}})));

    r.add(
        Method::del, "/api/v1/auth/sessions/{id}",
        [this](Request& req) -> core::Awaitable<Response> {
          co_await service_.revoke_session(req.ctx.principal.user_id, std::string(req.param("id")));
          co_return Response::no_content();
        },
        documented({},
                   oa::operation("Revoke one of your sessions.", {{"204", oa::empty_response("Revoked.")}})));

    r.add(
        Method::get, "/.well-known/jwks.json",
        [this](Request&) -> core::Awaitable<Response> {
          Response res = Response::json(200, service_.keys().jwks());
          res.headers.add("Cache-Control", "public, max-age=300");
          co_return res;
        },
        documented(open, oa::operation("The public keys that verify access tokens.",
                                       {{"200", oa::json_response("JSON Web Key Set.", oa::ref("Jwks"))}})));
  }

  json::object openapi_schemas() const override {
    json::object token_pair{{"access_token", oa::string()},
                            {"refresh_token", oa::string()},
                            {"token_type", oa::enumeration({"Bearer"})},
                            {"expires_in", oa::integer()}};
    json::object with_user = token_pair;
    with_user["user"] = oa::ref("User");
    return {
        {"User", oa::object({{"id", oa::string()},
                             {"email", oa::string()},
                             {"display_name", oa::string()},
                             {"role", oa::enumeration({"admin", "member"})},
                             {"disabled", oa::boolean()},
                             {"created_at", oa::date_time()},
                             {"updated_at", oa::date_time()}},
                            {"id", "email", "display_name", "role", "disabled", "created_at", "updated_at"})},
        {"TokenPair", oa::object(token_pair, {"access_token", "refresh_token", "token_type", "expires_in"})},
        {"TokenPairWithUser",
         oa::object(with_user, {"access_token", "refresh_token", "token_type", "expires_in", "user"})},
        {"Session", oa::object({{"id", oa::string()},
                                {"created_at", oa::date_time()},
                                {"last_used_at", oa::date_time()},
                                {"user_agent", oa::string()},
                                {"ip", oa::string()},
                                {"current", oa::boolean()}},
                               {"id", "created_at", "last_used_at", "user_agent", "ip", "current"})},
        {"ApiKey", oa::object({{"id", oa::string()},
                               {"name", oa::string()},
                               {"created_at", oa::date_time()},
                               {"expires_at", oa::nullable_date_time()}},
                              {"id", "name", "created_at", "expires_at"})},
        {"ApiKeyCreated", oa::object({{"id", oa::string()},
                                      {"name", oa::string()},
                                      {"key", oa::string()},
                                      {"created_at", oa::date_time()},
                                      {"expires_at", oa::nullable_date_time()}},
                                     {"id", "name", "key", "created_at", "expires_at"})},
        {"Jwks", oa::object({{"keys",
                              {{"type", "array"},
                               {"items", oa::object({{"kty", oa::string()},
                                                     {"crv", oa::string()},
                                                     {"x", oa::string()},
                                                     {"kid", oa::string()},
                                                     {"alg", oa::string()},
                                                     {"use", oa::string()}},
                                                    {"kty", "crv", "x", "kid", "alg", "use"})}}}},
                            {"keys"})}};
  }

  void subscribe(core::EventLog& events) override {
    // Auth's own copy of display names (shown in its token responses), fed by the users module.
    events.subscribe("auth.profiles", [](core::Tx& tx, core::Event const& e) {
      auto profile = core::event_as<users::ProfileUpdated>(e);
      if (!profile) return;
      tx.sql << update_display_name_sql, soci::use(profile->display_name), soci::use(profile->id);
    });
    events.watch("auth.revocations", [this](core::Event const& e) {
      if (auto key = core::event_as<ApiKeyRevoked>(e)) {
        authenticator_.key_revoked(key->key_hash);
      } else if (auto account = core::event_as<AccountUpdated>(e)) {
        authenticator_.account_changed(account->id);
      } else if (auto session = core::event_as<SessionRevoked>(e)) {
        authenticator_.revoked(session->session_id, e.occurred_at);
      }
    });
  }

  void start() override {
    // Sessions revoked before this process started, whose access tokens may still be unexpired.
    const auto& t = service_.settings().tokens;
    long long since = ctx_.clock.now_ms() - (t.lifetime_s + t.leeway_s) * 1000LL;
    ctx_.db.run_blocking([&](soci::session& sql) {
      soci::rowset<soci::row> rows = (sql.prepare << recent_revocations_sql, soci::use(since));
      for (auto const& row : rows)
        authenticator_.revoked(core::sql::get_text(row, 0), core::sql::get_int(row, 1));
    });
  }

 private:
  static KeyRing make_ring(app::ModuleContext& ctx) {
    KeyRing ring;
    ring.add(KeyRing::from_seed(load_or_create_seed(ctx.config, ctx.data_dir, ctx.log)));
    for (auto const& pk : ctx.config.list("auth.previous_public_keys")) ring.add(KeyRing::from_public(pk));
    return ring;
  }

  friend int create_admin(app::CommandContext& ctx);
  static AuthSettings settings(app::Config const& c) {
    AuthSettings s;
    s.tokens.issuer = c.str("auth.issuer");
    s.tokens.audience = c.str("auth.issuer");
    s.tokens.lifetime_s = static_cast<int>(c.integer("auth.access_token_ttl_s"));
    s.refresh_ttl_days = static_cast<int>(c.integer("auth.refresh_token_ttl_days"));
    s.reuse_grace_ms = static_cast<int>(c.integer("auth.refresh_reuse_grace_ms"));
    s.reset_ttl_ms = static_cast<int>(c.integer("auth.password_reset_ttl_minutes") * 60'000);
    s.hash_cost.passes = static_cast<unsigned long long>(c.integer("auth.argon2_passes"));
    s.hash_cost.memory_bytes = static_cast<std::size_t>(c.integer("auth.argon2_memory_kib")) * 1024;
    return s;
  }

  core::MailMessage reset_mail(std::string const& email, std::string const& token) const {
    const std::string link_template = ctx_.config.str("auth.password_reset_url");
    const long long minutes = ctx_.config.integer("auth.password_reset_ttl_minutes");
    std::string body =
        "Someone asked to reset the password of the BookSpace account " + email + ".\n\nIf that was you, ";
    if (auto at = link_template.find("{token}"); at != std::string::npos) {
      std::string link = link_template;
      link.replace(at, 7, token);
      body += "open this link to choose a new password:\n\n  " + link + "\n\n";
    } else {
      body +=
          "use this reset token to choose a new password\n(POST /api/v1/auth/password-reset/confirm):\n\n  " +
          token + "\n\n";
    }
    body +=
        "It works once, within " + std::to_string(minutes) +
        " minutes, and signs you out everywhere.\nIf it was not you, ignore this mail: your password stays "
        "as it is.\n";
    return {email, "Reset your BookSpace password", std::move(body)};
  }

  static ClientInfo client(Request const& req) {
    return {std::string(req.header("User-Agent").value_or("")), req.ctx.client_ip};
  }

  app::ModuleContext& ctx_;
  AuthService service_;
  TokenAuthenticator authenticator_;
  AccountsAdapter accounts_{service_};
  LoginThrottle login_throttle_;
  http::RateLimitPolicy refresh_per_session_;
  http::RateLimitPolicy reset_per_email_;
};

/// `bookspace users create-admin --email E`: the password is read from stdin (first line) or,
/// when stdin is empty, generated and printed once.
int create_admin(app::CommandContext& ctx) {
  std::string email_arg;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (ctx.args[i] == "--email" && i + 1 < ctx.args.size())
      email_arg = ctx.args[++i];
    else if (ctx.args[i].starts_with("--email="))
      email_arg = ctx.args[i].substr(8);
    else {
      ctx.out << "usage: bookspace users create-admin --email EMAIL  (password on stdin, or generated)\n";
      return 2;
    }
  }
  std::string email;
  try {
    email = normalize_email(email_arg);
  } catch (ApiError const&) {
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
  core::WorkerPool cpu("cpu", 1, 1);
  core::Metrics metrics;
  KeyRing ring;
  ring.add(KeyRing::from_seed(load_or_create_seed(ctx.config, ctx.data_dir, ctx.log)));
  AuthService service(ctx.db, ctx.events, cpu, ctx.clock, ctx.ids, ctx.log, std::move(ring),
                      AuthModule::settings(ctx.config), metrics);
  try {
    auto account = ctx.db.run_blocking([&](soci::session& sql) {
      return service.create_account_blocking(sql, email, password, "admin", email.substr(0, email.find('@')));
    });
    ctx.out << "created admin " << account.email << " (" << account.id << ")\n";
    if (generated) ctx.out << "password: " << password << "\n";
    return 0;
  } catch (ApiError const& e) {
    ctx.out << "users create-admin: " << e.error().detail << "\n";
    return 1;
  }
}

void declare_config(app::ConfigSchema& s) {
  app::ConfigKey key{"auth.signing_key", app::ConfigType::string, "",
                     "Ed25519 seed (32 bytes, base64url) signing access tokens; empty: generated once into "
                     "<data_dir>/auth-signing-key. Every instance of a cluster needs the same."};
  key.redact = [](std::string const&) { return std::string("***"); };
  key.validate = [](json::value const& v) -> std::optional<std::string> {
    if (v.as_string().empty()) return std::nullopt;
    try {
      KeyRing::from_seed(std::string(v.as_string()));
    } catch (std::exception const& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  };
  s.add(std::move(key));
  s.add({"auth.previous_public_keys", app::ConfigType::string_list, json::array(),
         "Public keys (base64url) of retired signing keys: their tokens verify until they expire."});
  s.add({"auth.issuer", app::ConfigType::string, "bookspace", "iss and aud of access tokens."});
  s.add(app::integer_key("auth.access_token_ttl_s", 900, 60, 86400, "Access token lifetime."));
  s.add(app::integer_key("auth.refresh_token_ttl_days", 30, 1, 365, "Refresh token (session) lifetime."));
  s.add(app::integer_key(
      "auth.refresh_reuse_grace_ms", 2000, 0, 60000,
      "A rotated refresh token presented again within this is taken for a concurrent refresh (401) "
      "rather than theft (401 and the session revoked)."));
  s.add(app::integer_key("auth.argon2_memory_kib", 19456, 19456, 4194304,
                         "Argon2id memory (OWASP minimum 19 MiB)."));
  s.add(app::integer_key("auth.argon2_passes", 2, 2, 100, "Argon2id passes (OWASP minimum 2)."));
  s.add(app::integer_key("auth.login_per_ip_per_minute", 30, 1, 1000000, "Login attempts per client IP."));
  s.add(app::integer_key("auth.login_failures_per_email_and_ip_per_minute", 10, 1, 1000000,
                         "Failed logins for one email from one client address; then 429 for that pair."));
  s.add(
      app::integer_key("auth.login_per_email_per_minute", 100, 1, 1000000,
                       "Failed logins for one email from all addresses; past it only clients with no recent "
                       "failure for that email may still try (the owner is never locked out)."));
  s.add(app::integer_key("auth.register_per_ip_per_minute", 10, 1, 1000000, "Registrations per client IP."));
  s.add(app::integer_key("auth.refresh_per_ip_per_minute", 60, 1, 1000000, "Token refreshes per client IP."));
  s.add(app::integer_key("auth.refresh_per_session_per_minute", 10, 1, 1000000,
                         "Token refreshes per session."));
  s.add(app::integer_key("auth.password_reset_per_ip_per_minute", 10, 1, 1000000,
                         "Password-reset requests and confirmations per client IP."));
  s.add(app::integer_key("auth.password_reset_per_email_per_hour", 5, 1, 1000000,
                         "Password-reset requests per email address."));
  s.add(app::integer_key("auth.password_reset_ttl_minutes", 30, 5, 1440, "How long a reset token works."));
  app::ConfigKey reset_url{
      "auth.password_reset_url", app::ConfigType::string, "",
      "Link mailed for a password reset, {token} replaced by the token (e.g. "
      "https://app.example/reset?token={token}); empty: the mail carries the token itself."};
  reset_url.validate = [](json::value const& v) -> std::optional<std::string> {
    std::string_view s = v.as_string();
    if (s.empty() || s.find("{token}") != std::string_view::npos) return std::nullopt;
    return std::string("must contain {token}");
  };
  s.add(std::move(reset_url));
}

}  // namespace

app::ModuleDescriptor auth_module() {
  return {"auth",
          "accounts, passwords, access tokens, sessions",
          {},
          &migrations::auth,
          &declare_config,
          [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<AuthModule>(ctx);
          },
          {{"users create-admin", "--email E: create an admin account (password from stdin, or generated)",
            &create_admin}}};
}

}  // namespace bookspace::auth
