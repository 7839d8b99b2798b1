#include "routes.hpp"

#include "login_throttle.hpp"
#include "rules.hpp"
#include "service.hpp"

#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

namespace bookspace::auth {

namespace json = boost::json;
namespace oa = http::openapi;
using core::ApiError;
using http::Method;
using http::Request;
using http::Response;

namespace {

// --- JSON of API.md ------------------------------------------------------------------------
json::object user_json(Account const& a) {
  return {{"id", a.id},
          {"email", a.email},
          {"display_name", a.display_name},
          {"role", a.role},
          {"disabled", a.disabled},
          {"created_at", core::format_rfc3339(a.created_at)},
          {"updated_at", core::format_rfc3339(a.updated_at)}};
}

Response tokens(RouteDeps& d, int status, Issued const& issued, bool with_user) {
  json::object out{{"access_token", issued.access_token},
                   {"refresh_token", issued.refresh_token},
                   {"token_type", "Bearer"},
                   {"expires_in", d.service.settings().tokens.lifetime_s}};
  if (with_user) out["user"] = user_json(issued.account);
  return Response::json(status, out);
}

json::value time_or_null(std::optional<long long> t) {
  return t ? json::value(core::format_rfc3339(*t)) : json::value(nullptr);
}

json::value api_key_json(ApiKeyInfo const& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"created_at", core::format_rfc3339(k.created_at)},
          {"expires_at", time_or_null(k.expires_at)}};
}

ClientInfo client(Request const& req) {
  return {std::string(req.header("User-Agent").value_or("")), req.ctx.client_ip};
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

ApiError too_many(std::string detail, int retry_after_s) {
  core::Error error{core::ErrorCode::rate_limited, std::move(detail), {}};
  error.retry_after_s = retry_after_s;
  return ApiError(std::move(error));
}

// --- accounts and tokens -------------------------------------------------------------------
core::Awaitable<Response> register_account(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"email", "password", "display_name"});
  std::string email = normalize_email(http::string_field(body, "email"));
  std::string password = http::string_field(body, "password");
  check_new_password("password", password);
  std::string name = display_name_or_default(http::string_field(body, "display_name", false), email);
  check_name("display_name", name);
  auto issued = co_await d.service.register_account(email, password, name, client(req));
  co_return tokens(d, 201, issued, true);
}

core::Awaitable<Response> login(RouteDeps& d, Request& req) {
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
  if (int wait = d.login_throttle.wait_s(email, req.ctx.client_ip); wait > 0)
    throw too_many("Too many failed logins; try again later.", wait);
  try {
    auto issued = co_await d.service.login(email, password, client(req));
    co_return tokens(d, 200, issued, true);
  } catch (ApiError const& e) {
    if (e.error().code == core::ErrorCode::invalid_credentials)
      d.login_throttle.failed(email, req.ctx.client_ip);
    throw;
  }
}

core::Awaitable<Response> refresh(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"refresh_token"});
  auto issued = co_await d.service.refresh(http::string_field(body, "refresh_token"));
  co_return tokens(d, 200, issued, false);
}

/// How long a logout waits for every live instance to refuse the session's tokens (then it
/// answers anyway: an instance that died a moment ago never acknowledges).
constexpr std::chrono::milliseconds revocation_wait{1000};

core::Awaitable<Response> logout(RouteDeps& d, Request& req) {
  if (!req.body.empty()) {
    auto body = http::parse_json_object(req);
    http::only_fields(body, {"refresh_token"});
    http::string_field(body, "refresh_token", false);  // optional, but a string when given
  }
  auto const& p = req.ctx.principal;
  co_await d.service.revoke_session(p.user_id, p.session_id);
  co_await d.propagation.wait(p.session_id, revocation_wait);  // refused on every instance now
  co_return Response::no_content();
}

core::Awaitable<Response> change_password(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"current_password", "new_password"});
  std::string current = http::string_field(body, "current_password");
  std::string next = http::string_field(body, "new_password");
  check_new_password("new_password", next);
  auto const& p = req.ctx.principal;
  co_await d.service.change_password(p.user_id, p.session_id, current, next);
  co_return Response::no_content();
}

core::Awaitable<Response> jwks(RouteDeps& d, Request&) {
  Response res = Response::json(200, d.service.keys().jwks());
  res.headers.add("Cache-Control", "public, max-age=300");
  co_return res;
}

// --- between processes --------------------------------------------------------------------
/// Auth's stand-in in another process asks who owns an API key (stand_in.cpp).
core::Awaitable<Response> verify_key_internal(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"key"});
  auto owner = co_await d.service.key_owner(http::string_field(body, "key"));
  if (!owner) throw core::ApiError(core::ErrorCode::not_found, "No such API key.");
  co_return Response::json(
      200, json::object{
               {"account_id", owner->account_id},
               {"role", owner->role},
               {"expires_at", owner->expires_at ? json::value(*owner->expires_at) : json::value(nullptr)}});
}

/// Auth's stand-in in another process takes part in logouts' propagation (propagation.hpp):
/// PUT its heartbeat, POST the sessions its cache now refuses, DELETE when it stops.
core::Awaitable<Response> instance_heartbeat(RouteDeps& d, Request& req) {
  co_await d.propagation.heartbeat_of(std::string(req.param("id")));
  co_return Response::no_content();
}

core::Awaitable<Response> instance_acks(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"sessions"});
  std::vector<std::string> sessions;
  if (auto const* list = body.if_contains("sessions"); list && list->is_array()) {
    for (auto const& v : list->get_array()) {
      if (!v.is_string()) throw core::ApiError(core::Error::validation("sessions", "must be strings"));
      sessions.emplace_back(v.get_string());
    }
  }
  co_await d.propagation.acknowledge(std::string(req.param("id")), std::move(sessions));
  co_return Response::no_content();
}

core::Awaitable<Response> instance_leave(RouteDeps& d, Request& req) {
  co_await d.propagation.leave(std::string(req.param("id")));
  co_return Response::no_content();
}

// --- password reset ------------------------------------------------------------------------
core::Awaitable<Response> request_reset(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"email"});
  std::string email = normalize_email(http::string_field(body, "email"));
  if (auto decision = d.limiter.take(d.limits.reset_email, email); !decision.allowed)
    throw too_many("Too many reset requests for this email.", decision.retry_after_s);
  d.service.request_password_reset(std::move(email));
  co_return Response{202, {}, {}};  // the same whether or not the email has an account
}

core::Awaitable<Response> confirm_reset(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"token", "new_password"});
  std::string token = http::string_field(body, "token");
  std::string next = http::string_field(body, "new_password");
  if (malformed_reset_token(token))
    throw ApiError(core::Error::validation("token", "is invalid, used or expired; request a new one"));
  check_new_password("new_password", next);
  co_await d.service.confirm_password_reset(std::move(token), std::move(next));
  co_return Response::no_content();
}

// --- API keys and sessions -----------------------------------------------------------------
core::Awaitable<Response> create_key(RouteDeps& d, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"name", "expires_in_days"});
  std::string name = http::string_field(body, "name");
  check_name("name", name);
  const int days = api_key_days(body.if_contains("expires_in_days"));
  auto created = co_await d.service.create_api_key(req.ctx.principal.user_id, name, days);
  json::object out = api_key_json(created.info).as_object();
  out["key"] = created.key;
  Response res = Response::json(201, out);
  res.headers.add("Cache-Control", "no-store");
  co_return res;
}

core::Awaitable<Response> list_keys(RouteDeps& d, Request& req) {
  const ListPage at = list_page(req, "api_keys");
  auto items = co_await d.service.api_keys(req.ctx.principal.user_id, at);
  co_return http::page(std::move(items), at.limit, api_key_json, [](ApiKeyInfo const& k) {
    return http::Cursor{"api_keys", std::to_string(k.created_at), k.id};
  });
}

core::Awaitable<Response> revoke_key(RouteDeps& d, Request& req) {
  co_await d.service.revoke_api_key(req.ctx.principal.user_id, std::string(req.param("id")));
  co_return Response::no_content();
}

core::Awaitable<Response> list_sessions(RouteDeps& d, Request& req) {
  auto const& p = req.ctx.principal;
  const ListPage at = list_page(req, "sessions");
  auto items = co_await d.service.sessions(p.user_id, at);
  auto session_json = [current = p.session_id](SessionInfo const& s) -> json::value {
    return {{"id", s.id},
            {"created_at", core::format_rfc3339(s.created_at)},
            {"last_used_at", core::format_rfc3339(s.last_used_at)},
            {"user_agent", s.user_agent},
            {"ip", s.ip},
            {"current", s.id == current}};
  };
  co_return http::page(std::move(items), at.limit, session_json, [](SessionInfo const& s) {
    return http::Cursor{"sessions", std::to_string(s.created_at), s.id};
  });
}

core::Awaitable<Response> revoke_session(RouteDeps& d, Request& req) {
  std::string session_id(req.param("id"));
  co_await d.service.revoke_session(req.ctx.principal.user_id, session_id);
  co_await d.propagation.wait(session_id, revocation_wait);
  co_return Response::no_content();
}

// --- registration --------------------------------------------------------------------------
http::RouteOptions open(std::optional<http::RateLimitPolicy> limit = std::nullopt) {
  http::RouteOptions o;
  o.auth = http::Auth::none;
  o.rate_limit = std::move(limit);
  return o;
}

json::object credentials_body(bool with_name) {
  json::object props{{"email", oa::string()}, {"password", oa::string()}};
  if (with_name) props["display_name"] = oa::string();
  return oa::object(std::move(props), {"email", "password"});
}

void add_token_routes(http::Router& r, RouteDeps& d) {
  auto const& l = d.limits;
  auto signed_in = oa::json_response("Signed in.", oa::ref("TokenPairWithUser"));
  r.add(Method::post, "/api/v1/auth/register", http::bind(d, register_account),
        oa::documented(oa::with_problems(oa::operation("Create an account; signs in.", {{"201", signed_in}},
                                                       credentials_body(true)),
                                         {"409"}),
                       open(l.register_ip)));
  r.add(Method::post, "/api/v1/auth/login", http::bind(d, login),
        oa::documented(oa::with_problems(
                           oa::operation("Sign in with email and password (wrong: 401 invalid_credentials).",
                                         {{"200", signed_in}}, credentials_body(false)),
                           {"401"}),
                       open(l.login_ip)));
  r.add(Method::post, "/api/v1/auth/refresh", http::bind(d, refresh),
        oa::documented(
            oa::with_problems(oa::operation("Exchange a refresh token for a new pair (rotation); an "
                                            "unknown, expired or reused one: 401.",
                                            {{"200", oa::json_response("New tokens.", oa::ref("TokenPair"))}},
                                            oa::object({{"refresh_token", oa::string()}}, {"refresh_token"})),
                              {"401"}),
            open(l.refresh_ip)));
  r.add(Method::post, "/api/v1/auth/logout", http::bind(d, logout),
        oa::documented(oa::with_optional_body(
            oa::operation("Sign out: revoke this session (and the refresh token, when given).",
                          {{"204", oa::empty_response("Signed out.")}}),
            oa::object({{"refresh_token", oa::string()}}, {}))));
  r.add(Method::post, "/api/v1/auth/password", http::bind(d, change_password),
        oa::documented(oa::with_problems(
            oa::operation("Change the password; revokes every other session (a wrong current password: 401).",
                          {{"204", oa::empty_response("Password changed.")}},
                          oa::object({{"current_password", oa::string()}, {"new_password", oa::string()}},
                                     {"current_password", "new_password"})),
            {"401"})));
  r.add(Method::get, "/.well-known/jwks.json", http::bind(d, jwks),
        oa::documented(oa::operation("The public keys that verify access tokens.",
                                     {{"200", oa::json_response("JSON Web Key Set.", oa::ref("Jwks"))}}),
                       open()));
}

void add_reset_routes(http::Router& r, RouteDeps& d) {
  r.add(Method::post, "/api/v1/auth/password-reset", http::bind(d, request_reset),
        oa::documented(
            oa::operation("Mail a password-reset token (202 whether or not the email has an account).",
                          {{"202", oa::empty_response("Accepted.")}},
                          oa::object({{"email", oa::string()}}, {"email"})),
            open(d.limits.reset_ip)));
  auto confirm_limit = d.limits.reset_ip;
  confirm_limit.name = "reset_confirm_ip";
  r.add(Method::post, "/api/v1/auth/password-reset/confirm", http::bind(d, confirm_reset),
        oa::documented(oa::operation("Set a new password with a reset token; signs out everywhere.",
                                     {{"204", oa::empty_response("Password changed.")}},
                                     oa::object({{"token", oa::string()}, {"new_password", oa::string()}},
                                                {"token", "new_password"})),
                       open(confirm_limit)));
}

void add_key_and_session_routes(http::Router& r, RouteDeps& d) {
  r.add(Method::post, "/api/v1/auth/api-keys", http::bind(d, create_key),
        oa::documented(oa::operation(
            "Create an API key (the key is shown once).",
            {{"201", oa::json_response("Created.", oa::ref("ApiKeyCreated"))}},
            oa::object({{"name", oa::string()}, {"expires_in_days", oa::integer()}}, {"name"}))));
  r.add(Method::get, "/api/v1/auth/api-keys", http::bind(d, list_keys),
        oa::documented(oa::list_operation(
            oa::operation("List your API keys (never the keys themselves).",
                          {{"200", oa::json_response("Your keys.", oa::list_of(oa::ref("ApiKey")))}}))));
  r.add(Method::del, "/api/v1/auth/api-keys/{id}", http::bind(d, revoke_key),
        oa::documented(oa::operation("Revoke an API key.", {{"204", oa::empty_response("Revoked.")}})));
  r.add(Method::get, "/api/v1/auth/sessions", http::bind(d, list_sessions),
        oa::documented(oa::list_operation(
            oa::operation("List your live sessions.",
                          {{"200", oa::json_response("Your sessions.", oa::list_of(oa::ref("Session")))}}))));
  r.add(Method::del, "/api/v1/auth/sessions/{id}", http::bind(d, revoke_session),
        oa::documented(
            oa::operation("Revoke one of your sessions.", {{"204", oa::empty_response("Revoked.")}})));
}

}  // namespace

void add_routes(http::Router& router, RouteDeps& deps) {
  http::RouteOptions internal;
  internal.auth = http::Auth::service;
  router.add(Method::post, "/internal/auth/api-keys/verify", http::bind(deps, verify_key_internal), internal);
  router.add(Method::put, "/internal/auth/instances/{id}", http::bind(deps, instance_heartbeat), internal);
  router.add(Method::del, "/internal/auth/instances/{id}", http::bind(deps, instance_leave), internal);
  router.add(Method::post, "/internal/auth/instances/{id}/acks", http::bind(deps, instance_acks), internal);
  add_token_routes(router, deps);
  add_reset_routes(router, deps);
  add_key_and_session_routes(router, deps);
}

json::object openapi_schemas() {
  json::object token_pair{{"access_token", oa::string()},
                          {"refresh_token", oa::string()},
                          {"token_type", oa::enumeration({"Bearer"})},
                          {"expires_in", oa::integer()}};
  json::object with_user = token_pair;
  with_user["user"] = oa::ref("User");
  json::object api_key{{"id", oa::string()},
                       {"name", oa::string()},
                       {"created_at", oa::date_time()},
                       {"expires_at", oa::nullable_date_time()}};
  json::object api_key_created = api_key;
  api_key_created["key"] = oa::string();
  json::object jwk = oa::object({{"kty", oa::string()},
                                 {"crv", oa::string()},
                                 {"x", oa::string()},
                                 {"kid", oa::string()},
                                 {"alg", oa::string()},
                                 {"use", oa::string()}},
                                {"kty", "crv", "x", "kid", "alg", "use"});
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
      {"ApiKey", oa::object(api_key, {"id", "name", "created_at", "expires_at"})},
      {"ApiKeyCreated", oa::object(api_key_created, {"id", "name", "key", "created_at", "expires_at"})},
      {"Jwks", oa::object({{"keys", {{"type", "array"}, {"items", jwk}}}}, {"keys"})}};
}

}  // namespace bookspace::auth
