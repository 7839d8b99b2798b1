#include "internal_routes.hpp"

#include "core/database.hpp"
#include "core/error.hpp"
#include "http/router.hpp"
#include "local_interfaces.hpp"
#include "store.hpp"
#include "wire.hpp"

#include <bookspace/documents/documents.hpp>

#include <algorithm>

namespace bookspace::documents {

namespace {

namespace json = boost::json;
using http::Method;
using http::Request;
using http::Response;

std::string required_query(Request const& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v || v->empty()) throw core::ApiError(core::Error::validation(std::string(name), "is required"));
  return *v;
}

core::Awaitable<Response> role_route(InternalDeps& d, Request& req) {
  auto role = co_await d.access.role(std::string(req.param("id")), required_query(req, "user_id"));
  co_return Response::json(200, json::object{{"role", to_string(role)}});
}

core::Awaitable<Response> readers_route(InternalDeps& d, Request& req) {
  auto readers = co_await d.access.readers(std::string(req.param("id")));
  co_return Response::json(200, json::object{{"readers", wire::array_of(readers)}});
}

/// ?user_id=: the ids that user may read; without it, every live id (system work).
core::Awaitable<Response> ids_route(InternalDeps& d, Request& req) {
  const auto user = req.query_param("user_id");
  const std::string after = req.query_param("after").value_or("");
  int limit = wire::max_ids;
  if (auto l = req.query_param("limit")) {
    try {
      limit = std::clamp(std::stoi(*l), 1, wire::max_ids);
    } catch (std::exception const&) {
      throw core::ApiError(core::Error::validation("limit", "must be an integer"));
    }
  }
  auto ids = co_await d.db.run([&](soci::session& sql) {
    return user ? readable_ids(sql, *user, after, limit) : live_ids(sql, after, limit);
  });
  co_return Response::json(200, json::object{{"ids", wire::array_of(ids)}});
}

/// ?user_id=: as that user may read it now; without it, whoever may (system work).
core::Awaitable<Response> snapshot_route(InternalDeps& d, Request& req) {
  const std::string id(req.param("id"));
  const auto user = req.query_param("user_id");
  auto snapshot = co_await d.db.run(
      [&](soci::session& sql) { return user ? readable_snapshot(sql, id, *user) : live_snapshot(sql, id); });
  if (!snapshot) throw core::ApiError(core::ErrorCode::not_found, "No such document.");
  co_return Response::json(200, detail::snapshot_json(*snapshot));
}

}  // namespace

void add_internal_routes(http::Router& router, InternalDeps& deps) {
  http::RouteOptions internal;
  internal.auth = http::Auth::service;
  router.add(Method::get, "/internal/documents/ids", http::bind(deps, ids_route), internal);
  router.add(Method::get, "/internal/documents/{id}/role", http::bind(deps, role_route), internal);
  router.add(Method::get, "/internal/documents/{id}/readers", http::bind(deps, readers_route), internal);
  router.add(Method::get, "/internal/documents/{id}/snapshot", http::bind(deps, snapshot_route), internal);
}

}  // namespace bookspace::documents
