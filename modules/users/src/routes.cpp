#include "routes.hpp"

#include "rules.hpp"
#include "service.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

namespace bookspace::users {

namespace json = boost::json;
namespace oa = http::openapi;
using http::Method;
using http::Request;
using http::Response;

namespace {

json::value user_json(Profile const& p) {
  return json::object{{"id", p.id},
                      {"email", p.email},
                      {"display_name", p.display_name},
                      {"role", p.role},
                      {"disabled", p.disabled},
                      {"created_at", core::format_rfc3339(p.created_at)},
                      {"updated_at", core::format_rfc3339(p.updated_at)}};
}

std::string const& caller(Request const& req) {
  return req.ctx.principal.user_id;
}

core::Awaitable<Response> get_me(Service& svc, Request& req) {
  co_return Response::json(200, user_json(co_await svc.me(caller(req))));
}

core::Awaitable<Response> patch_me(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"display_name"});
  std::string name = display_name_value(body.if_contains("display_name"));
  co_return Response::json(200, user_json(co_await svc.rename(caller(req), std::move(name))));
}

core::Awaitable<Response> get_user(Service& svc, Request& req) {
  auto p = co_await svc.find(std::string(req.param("id")));
  co_return Response::json(200, {{"id", p.id}, {"display_name", p.display_name}});
}

core::Awaitable<Response> list_users(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  auto cursor = http::cursor_param(req, "users");
  std::string after = cursor ? cursor->id : std::string();  // GCC 12: no ?: temporaries across co_await
  std::string pattern = search_pattern(req.query_param("q").value_or(""));
  auto items = co_await svc.list(caller(req), std::move(after), std::move(pattern), limit);
  co_return http::page(std::move(items), limit, user_json, [](Profile const& p) {
    return http::Cursor{"users", "", p.id};
  });
}

core::Awaitable<Response> patch_user(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"role", "disabled"});
  std::optional<std::string> role;
  std::optional<bool> disabled;
  if (auto const* v = body.if_contains("role")) role = role_value(*v);
  if (auto const* v = body.if_contains("disabled")) disabled = disabled_value(*v);
  auto p = co_await svc.administer(caller(req), std::string(req.param("id")), std::move(role), disabled);
  co_return Response::json(200, user_json(p));
}

}  // namespace

void add_routes(http::Router& r, Service& svc) {
  auto user = oa::json_response("The user.", oa::ref("User"));
  r.add(Method::get, "/api/v1/users/me", http::bind(svc, get_me),
        oa::documented(oa::operation("Your profile (available at once after register).", {{"200", user}})));
  r.add(Method::patch, "/api/v1/users/me", http::bind(svc, patch_me),
        oa::documented(oa::operation("Change your display name.", {{"200", user}},
                                     oa::object({{"display_name", oa::string()}}, {"display_name"}))));
  r.add(Method::get, "/api/v1/users/{id}", http::bind(svc, get_user),
        oa::documented(oa::operation("What others see of a user.",
                                     {{"200", oa::json_response("The user.", oa::ref("PublicUser"))}})));
  r.add(Method::get, "/api/v1/users", http::bind(svc, list_users),
        oa::documented(oa::list_operation(
            oa::with_problems(
                oa::operation("Admin: list users, by id; `q` matches email or display name.",
                              {{"200", oa::json_response("Users.", oa::list_of(oa::ref("User")))}}),
                {"403"}),
            {oa::param("q", "query", oa::string(), "Part of the email or display name (any case).")})));
  r.add(
      Method::patch, "/api/v1/users/{id}", http::bind(svc, patch_user),
      oa::documented(oa::with_problems(
          oa::operation(
              "Admin: change a user's role or disable them (disabling revokes every session).",
              {{"200", user}},
              oa::object({{"role", oa::enumeration({"admin", "member"})}, {"disabled", oa::boolean()}}, {})),
          {"403"})));
}

json::object openapi_schemas() {
  return {{"PublicUser",
           oa::object({{"id", oa::string()}, {"display_name", oa::string()}}, {"id", "display_name"})}};
}

}  // namespace bookspace::users
