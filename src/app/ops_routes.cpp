#include "app/ops_routes.hpp"

#include "app/process_metrics.hpp"
#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/worker_pool.hpp"
#include "http/openapi.hpp"
#include "http/openapi_document.hpp"
#include "http/router.hpp"

#include <soci/soci.h>
#include <boost/json/serialize.hpp>

#include <sodium.h>

#include <cctype>
#include <fstream>

namespace bookspace::app {

namespace json = boost::json;
using http::Method;
using http::Request;
using http::Response;

namespace {

json::object op(std::string summary, std::string const& tag, json::object responses) {
  return {{"summary", std::move(summary)}, {"tags", json::array{tag}}, {"responses", std::move(responses)}};
}

json::object json_response(std::string const& description, std::string const& schema_ref) {
  return http::openapi::json_response(description, http::openapi::ref(schema_ref));
}

std::string render_event_status(std::vector<core::ConsumerStatus> const& statuses) {
  std::string out;
  auto family = [&](char const* name, char const* help, auto value_of) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (auto const& s : statuses) {
      core::append_sample(out, name, "consumer=\"" + core::Metrics::escape(s.consumer) + "\"",
                          static_cast<double>(value_of(s)));
    }
  };
  family("bookspace_event_consumer_lag", "Events not yet processed by a consumer.",
         [](core::ConsumerStatus const& s) { return s.lag; });
  family("bookspace_event_consumer_offset", "Last event sequence number processed.",
         [](core::ConsumerStatus const& s) { return s.seq; });
  family("bookspace_event_consumer_retrying", "Consecutive failures of the consumer's current batch.",
         [](core::ConsumerStatus const& s) { return s.failures; });
  return out;
}

}  // namespace

namespace {

/// GET /readyz: the database answers, no migration is pending, the server is not draining.
core::Awaitable<Response> readiness(std::shared_ptr<OpsContext> p) {
  json::object checks;
  bool ready = true;
  try {
    co_await p->db.run([](soci::session& sql) {
      int one = 0;
      sql << "SELECT 1", soci::into(one);
    });
    checks["database"] = "ok";
  } catch (std::exception const& e) {
    checks["database"] = "unreachable";
    ready = false;
  }
  if (!p->migrations_current && ready) {
    try {
      auto pending = co_await p->db.run([&p](soci::session& sql) {
        return core::pending_migrations(sql, p->db.dialect(), p->migration_plan).size();
      });
      p->migrations_current = pending == 0;
    } catch (std::exception const&) {
      p->migrations_current = false;
    }
  }
  checks["migrations"] = p->migrations_current ? "ok" : "pending";
  ready = ready && p->migrations_current;
  for (auto const& m : p->modules)
    for (auto const& check : m->readiness()) {
      checks[check.name] = check.state;
      ready = ready && check.state == "ok";
    }
  const bool draining = p->draining();
  checks["draining"] = draining;
  ready = ready && !draining;
  co_return Response::json(ready ? 200 : 503,
                           {{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
}

/// GET /metrics: the registry's families and the event consumers' offsets and lag; with
/// server.metrics_token set, only for the scraper that presents it (compared in constant time).
core::Awaitable<Response> metrics_page(std::shared_ptr<OpsContext> p, Request& req) {
  // server.metrics_token set: only a scraper that presents it (compared in constant time).
  if (!p->metrics_token.empty()) {
    const std::string expected = "Bearer " + p->metrics_token;
    const auto given = req.header("Authorization").value_or("");
    if (given.size() != expected.size() || sodium_memcmp(given.data(), expected.data(), given.size()) != 0) {
      auto res = http::problem(core::ErrorCode::unauthorized, "/metrics needs server.metrics_token.",
                               req.ctx.request_id);
      res.headers.add("WWW-Authenticate", "Bearer");
      co_return res;
    }
  }
  std::string text = p->metrics.render();
  try {
    auto statuses = co_await p->db.run([&p](soci::session& sql) { return p->events.status(sql); });
    text += render_event_status(statuses);
  } catch (std::exception const& e) {
    p->log.warn("metrics: cannot read event consumer status", {{"error", e.what()}});
  }
  co_return Response::text(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void register_ops_routes(OpsContext context) {
  auto p = std::make_shared<OpsContext>(std::move(context));
  register_process_metrics(p->metrics, p->started_at);
  register_pool_metrics(p->metrics, p->db, p->cpu, p->events);
  auto& r = p->router;
  r.set_module("kernel");
  http::RouteOptions open;
  open.auth = http::Auth::none;

  auto with_doc = [&](json::object doc) {
    http::RouteOptions o = open;
    o.openapi = std::move(doc);
    return o;
  };

  r.add(
      Method::get, "/healthz",
      [](Request&) -> core::Awaitable<Response> {
        co_return Response::json(200, {{"status", "ok"}});
      },
      with_doc(
          op("Liveness: the process serves HTTP.", "ops", {{"200", json_response("Alive.", "Health")}})));

  r.add(
      Method::get, "/readyz", [p](Request&) { return readiness(p); },
      with_doc(op("Readiness: database reachable, migrations applied, not draining.", "ops",
                  {{"200", json_response("Ready.", "Readiness")},
                   {"503", json_response("Not ready.", "Readiness")}})));

  r.add(
      Method::get, "/metrics", [p](Request& req) { return metrics_page(p, req); },
      with_doc(
          op("Prometheus metrics (with server.metrics_token set: `Authorization: Bearer <token>`, else 401).",
             "ops",
             {{"200",
               {{"description", "Prometheus text exposition format."},
                {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}},
              {"401", {{"$ref", "#/components/responses/Problem"}}}})));

  r.add(
      Method::get, "/openapi.json",
      [p](Request&) -> core::Awaitable<Response> {
        json::object schemas;
        for (auto const& m : p->modules) {
          for (auto const& [k, v] : m->openapi_schemas()) schemas[k] = v;
        }
        co_return Response::json(200, http::build_openapi(p->router, schemas));
      },
      with_doc(op("This API description (OpenAPI 3.0.3).", "ops",
                  {{"200",
                    {{"description", "OpenAPI document."},
                     {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}}})));

  r.add(
      Method::get, "/docs",
      [](Request&) -> core::Awaitable<Response> {
        Response res = Response::text(200, std::string(docs_page_html()), "text/html; charset=utf-8");
        res.headers.add("Content-Security-Policy",
                        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'");
        co_return res;
      },
      with_doc(op("A page to read and try this API.", "ops",
                  {{"200",
                    {{"description", "HTML page."},
                     {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}}})));
}

}  // namespace bookspace::app
