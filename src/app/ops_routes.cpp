#include "app/ops_routes.hpp"

#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/worker_pool.hpp"
#include "http/openapi.hpp"
#include "http/router.hpp"

#include <soci/soci.h>
#include <boost/json/serialize.hpp>

#include <dirent.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

namespace bookspace::app {

namespace json = boost::json;
using http::Method;
using http::Request;
using http::Response;

namespace {

json::object op(std::string summary, std::string tag, json::object responses) {
  return {{"summary", std::move(summary)},
          {"tags", json::array{std::move(tag)}},
          {"responses", std::move(responses)}};
}

json::object json_response(std::string description, std::string schema_ref) {
  return http::openapi::json_response(description, http::openapi::ref(schema_ref));
}

double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (auto* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the directory stream itself
}

void register_process_metrics(std::shared_ptr<OpsContext> const& p) {
  auto& m = p->metrics;
  m.collector("process_resident_memory_bytes", "Resident set size.", "gauge", [](std::string& out) {
    core::append_sample(out, "process_resident_memory_bytes", "", rss_bytes());
  });
  m.collector("process_open_fds", "Open file descriptors.", "gauge",
              [](std::string& out) { core::append_sample(out, "process_open_fds", "", open_fds()); });
  // Prometheus' standard process metrics beside ours: start time, CPU, the descriptor limit.
  const double started_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      std::chrono::duration<double>(std::chrono::steady_clock::now() - p->started_at).count();
  m.collector("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
              "gauge", [started_s](std::string& out) {
                core::append_sample(out, "process_start_time_seconds", "", started_s);
              });
  m.collector("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter",
              [](std::string& out) {
                rusage usage{};
                ::getrusage(RUSAGE_SELF, &usage);
                const double s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
                core::append_sample(out, "process_cpu_seconds_total", "", s);
              });
  m.collector("process_max_fds", "The limit of open file descriptors.", "gauge", [](std::string& out) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    core::append_sample(out, "process_max_fds", "", static_cast<double>(limit.rlim_cur));
  });
  m.collector("bookspace_build_info", "The running build (always 1).", "gauge", [](std::string& out) {
    core::append_sample(out, "bookspace_build_info", "version=\"" BOOKSPACE_VERSION "\"", 1);
  });
  auto pool = [&m](std::string const& label, core::WorkerPool* pool) {
    m.collector(
        "bookspace_pool_threads", "Worker threads per pool.", "gauge", [label, pool](std::string& out) {
          core::append_sample(out, "bookspace_pool_threads", label, static_cast<double>(pool->threads()));
        });
    m.collector("bookspace_pool_busy", "Workers running a task.", "gauge", [label, pool](std::string& out) {
      core::append_sample(out, "bookspace_pool_busy", label, static_cast<double>(pool->busy()));
    });
    m.collector(
        "bookspace_pool_queued", "Tasks waiting for a worker.", "gauge", [label, pool](std::string& out) {
          core::append_sample(out, "bookspace_pool_queued", label, static_cast<double>(pool->queued()));
        });
    m.collector("bookspace_pool_rejected_total", "Tasks refused because the queue was full (503).", "counter",
                [label, pool](std::string& out) {
                  core::append_sample(out, "bookspace_pool_rejected_total", label,
                                      static_cast<double>(pool->rejected()));
                });
  };
  pool("pool=\"db\"", &p->db.pool());
  pool("pool=\"cpu\"", &p->cpu);
  m.collector("bookspace_event_consumer_failures_total", "Event handler failures since start.", "counter",
              [&events = p->events](std::string& out) {
                core::append_sample(out, "bookspace_event_consumer_failures_total", "",
                                    static_cast<double>(events.failures_total()));
              });
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

void register_ops_routes(OpsContext context) {
  auto p = std::make_shared<OpsContext>(std::move(context));
  register_process_metrics(p);
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
      Method::get, "/readyz",
      [p](Request&) -> core::Awaitable<Response> {
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
        const bool draining = p->draining();
        checks["draining"] = draining;
        ready = ready && !draining;
        co_return Response::json(ready ? 200 : 503,
                                 {{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
      },
      with_doc(op("Readiness: database reachable, migrations applied, not draining.", "ops",
                  {{"200", json_response("Ready.", "Readiness")},
                   {"503", json_response("Not ready.", "Readiness")}})));

  r.add(
      Method::get, "/metrics",
      [p](Request& req) -> core::Awaitable<Response> {
        // server.metrics_token set: only a scraper that presents it (compared in constant time).
        if (!p->metrics_token.empty()) {
          const std::string expected = "Bearer " + p->metrics_token;
          const auto given = req.header("Authorization").value_or("");
          if (given.size() != expected.size() ||
              sodium_memcmp(given.data(), expected.data(), given.size()) != 0) {
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
      },
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
        co_return Response::json(200, build_openapi(p->router, p->modules));
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

namespace {

/// "documents", "api_keys": a path segment as part of an operationId.
std::string id_part(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool is_list(json::object const& operation) {
  auto const* responses = operation.if_contains("responses");
  if (!responses || !responses->is_object()) return false;
  auto const* ok = responses->as_object().if_contains("200");
  if (!ok) return false;
  auto const* schema = ok->as_object().if_contains("content");
  if (!schema) return false;
  auto const* body = schema->as_object().if_contains("application/json");
  if (!body || !body->as_object().contains("schema")) return false;
  auto const& sch = body->as_object().at("schema");
  auto const* props = sch.is_object() ? sch.as_object().if_contains("properties") : nullptr;
  return props && props->as_object().contains("items") && props->as_object().contains("next_cursor");
}

/// A stable operationId from the path and method, for client generators: the literal segments
/// after /api/v1 joined with dots, then what the method does — `documents.list`,
/// `documents.create`, `documents.get`, `documents.versions.get`, `trash.restore` (a POST to a
/// path without a GET is an action named by its last segment), `auth.api_keys.delete`.
std::string operation_id(http::Route const& route, json::object const& operation,
                         http::Router const& router) {
  std::vector<std::string> parts;
  std::size_t first = 0;
  if (route.segments.size() >= 2 && route.segments[0] == "api" && route.segments[1] == "v1") first = 2;
  for (std::size_t i = first; i < route.segments.size(); ++i) {
    auto const& seg = route.segments[i];
    if (!seg.empty() && seg.front() == '{') continue;
    if (auto part = id_part(seg); !part.empty()) parts.push_back(std::move(part));
  }
  const bool item =
      !route.segments.empty() && !route.segments.back().empty() && route.segments.back().front() == '{';
  std::string verb;
  switch (route.method) {
    case http::Method::get:
      verb = !item && is_list(operation) ? "list" : "get";
      break;
    case http::Method::post: {
      bool collection = false;
      for (auto const& other : router.routes()) {
        collection = collection || (other.pattern == route.pattern && other.method == http::Method::get);
      }
      verb = collection ? "create" : "";
      break;
    }
    case http::Method::put:
      verb = "put";
      break;
    case http::Method::patch:
      verb = "update";
      break;
    case http::Method::del:
      verb = "delete";
      break;
    default:
      verb = std::string(http::to_string(route.method));
  }
  std::string id;
  for (auto const& part : parts) id += (id.empty() ? "" : ".") + part;
  if (!verb.empty()) id += (id.empty() ? "" : ".") + verb;
  return id;
}

/// The problem+json answers a route can give, from what it declares: every route can get a
/// 400 (an undecodable query string at least), 401 where credentials count, 404 for a path
/// with ids, 413/415 for a JSON body, 409/422 with Idempotency-Key, 429 with a rate limit.
void add_problem_responses(http::Route const& route, json::object& responses) {
  auto add = [&responses](char const* status) {
    if (!responses.contains(status)) responses[status] = {{"$ref", "#/components/responses/Problem"}};
  };
  add("400");
  if (route.options.auth != http::Auth::none) add("401");
  bool has_id = false;
  for (auto const& seg : route.segments) has_id = has_id || (!seg.empty() && seg.front() == '{');
  if (has_id) add("404");
  const bool body = route.method == http::Method::post || route.method == http::Method::put ||
                    route.method == http::Method::patch;
  if (body) add("413");
  if (body && route.options.json_body) add("415");
  if (route.options.idempotent) {
    add("409");
    add("422");
  }
  if (route.options.rate_limit) add("429");
}

json::object header_components() {
  auto h = [](std::string_view description, std::string_view type = "string") {
    return json::object{{"description", description}, {"schema", {{"type", type}}}};
  };
  return {
      {"X-Request-Id",
       h("The request's id (the client's own, when sane): quote it when reporting a problem.")},
      {"Retry-After", h("Seconds to wait before trying again.", "integer")},
      {"WWW-Authenticate", h("`Bearer` (RFC 6750): the credential is missing or not valid.")},
      {"RateLimit-Limit", h("Requests the policy allows per window.", "integer")},
      {"RateLimit-Remaining", h("Requests left in this window.", "integer")},
      {"RateLimit-Reset", h("Seconds until the window resets.", "integer")},
      {"ETag", h("The representation's version (a document's `\"<version>\"`, a file's `\"<sha256>\"`).")},
      {"Location", h("Where the resource just made lives.")},
      {"Idempotent-Replayed", h("`true`: the first response to this Idempotency-Key, replayed.")},
      {"Content-Range", h("`bytes a-b/size` (206), `bytes */size` (416).")},
      {"Content-Disposition", h("`attachment; filename=\"…\"; filename*=UTF-8''…`.")},
      {"Accept-Ranges", h("`bytes`.")},
      {"X-Content-Type-Options", h("`nosniff`.")},
      {"Cache-Control", h("How long a cache may keep the answer.")},
      {"BookSpace-File-Id", h("The File a completed resumable upload became.")},
      {"Tus-Resumable", h("The tus version spoken: `1.0.0`.")},
      {"Tus-Version", h("The tus versions supported.")},
      {"Tus-Extension", h("The tus extensions supported.")},
      {"Tus-Max-Size", h("The largest upload accepted, in bytes.", "integer")},
      {"Upload-Offset", h("Bytes of the upload received and stored.", "integer")},
      {"Upload-Length", h("The upload's size in bytes.", "integer")},
      {"Upload-Metadata", h("The upload's metadata as sent.")},
      {"Upload-Expires", h("When an unfinished upload is removed (HTTP date).")},
  };
}

json::object header_refs(std::initializer_list<std::string_view> names) {
  json::object out;
  for (auto n : names) out[n] = {{"$ref", "#/components/headers/" + std::string(n)}};
  return out;
}

json::object problem_response(std::string_view description, std::initializer_list<std::string_view> headers) {
  return {
      {"description", description},
      {"headers", header_refs(headers)},
      {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

/// Every response says which request it answers (X-Request-Id); a problem that asks the client to
/// come back says when (Retry-After), a 401 how to authenticate; an idempotent route's success may
/// be a replay. Shared problem responses go to components.responses.
void document_headers(http::Route const& route, json::object& responses) {
  responses.emplace("503", json::object{{"$ref", "#/components/responses/ProblemRetry"}});
  for (auto& [status, response] : responses) {
    auto& r = response.as_object();
    if (auto const* ref = r.if_contains("$ref")) {
      if (*ref != "#/components/responses/Problem") continue;
      if (status == "401") r["$ref"] = "#/components/responses/Unauthorized";
      if (status == "429") r["$ref"] = "#/components/responses/TooManyRequests";
      if (status == "503" || status == "507") r["$ref"] = "#/components/responses/ProblemRetry";
      continue;
    }
    auto& headers = r["headers"];
    if (!headers.is_object()) headers = json::object{};
    headers.as_object()["X-Request-Id"] = {{"$ref", "#/components/headers/X-Request-Id"}};
    if (route.options.idempotent && status.starts_with("2"))
      headers.as_object()["Idempotent-Replayed"] = {{"$ref", "#/components/headers/Idempotent-Replayed"}};
  }
}

json::array error_codes() {
  json::array codes;
  for (int i = 0; i <= static_cast<int>(core::ErrorCode::internal); ++i)
    codes.emplace_back(core::to_string(static_cast<core::ErrorCode>(i)));
  return codes;
}

}  // namespace

json::object build_openapi(http::Router const& router, std::vector<std::unique_ptr<Module>> const& modules) {
  json::object schemas{
      {"Problem",
       {{"type", "object"},
        {"required", json::array{"type", "title", "status", "code", "request_id"}},
        {"properties",
         {{"type", {{"type", "string"}}},
          {"title", {{"type", "string"}}},
          {"status", {{"type", "integer"}}},
          {"detail", {{"type", "string"}}},
          {"code", {{"type", "string"}, {"enum", error_codes()}}},
          {"request_id", {{"type", "string"}}},
          {"errors",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties", {{"field", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}},
      {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}, {"enum", {"ok"}}}}}}}},
      {"Readiness",
       {{"type", "object"},
        {"properties",
         {{"status", {{"type", "string"}, {"enum", {"ready", "not_ready"}}}},
          {"checks",
           {{"type", "object"},
            {"properties",
             {{"database", {{"type", "string"}}},
              {"migrations", {{"type", "string"}}},
              {"draining", {{"type", "boolean"}}}}}}}}}}}};
  for (auto const& m : modules) {
    for (auto const& [k, v] : m->openapi_schemas()) schemas[k] = v;
  }

  json::object paths;
  for (auto const& route : router.routes()) {
    if (route.options.auth == http::Auth::service) continue;  // between processes, not for clients
    json::object operation =
        route.options.openapi.is_object() ? route.options.openapi.as_object() : json::object{};
    if (!operation.contains("tags")) operation["tags"] = json::array{route.module};
    if (!operation.contains("responses")) operation["responses"] = json::object{};
    if (!operation.contains("operationId")) operation["operationId"] = operation_id(route, operation, router);
    auto& responses = operation["responses"].as_object();
    add_problem_responses(route, responses);
    if (!responses.contains("default"))
      responses["default"] = problem_response("An error (problem+json).", {});
    document_headers(route, responses);
    json::array parameters =
        operation.contains("parameters") ? operation["parameters"].as_array() : json::array{};
    for (auto const& seg : route.segments) {
      if (seg.size() < 3 || seg.front() != '{') continue;
      std::string name = seg.substr(1, seg.size() - 2);
      bool listed = false;
      for (auto const& prm : parameters) {
        listed = listed || (prm.as_object().at("name") == name.c_str() && prm.as_object().at("in") == "path");
      }
      if (!listed) {
        parameters.push_back(
            {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
      }
    }
    if (route.options.idempotent) {
      parameters.push_back(
          {{"name", "Idempotency-Key"},
           {"in", "header"},
           {"required", false},
           {"description",
            "Same key and body within 24 h: the first response is replayed (Idempotent-Replayed: "
            "true); another body: 422; while the first runs: 409."},
           {"schema", {{"type", "string"}, {"maxLength", 255}}}});
    }
    if (!parameters.empty()) operation["parameters"] = std::move(parameters);
    if (route.options.auth == http::Auth::required) {
      operation["security"] = json::array{json::object{{"bearer", json::array{}}}};
    } else if (route.options.auth == http::Auth::none) {
      operation["security"] = json::array{};
    } else if (route.options.auth == http::Auth::optional) {
      // Anonymous (a signed link, say) or with a bearer credential.
      operation["security"] = json::array{json::object{}, json::object{{"bearer", json::array{}}}};
    }
    std::string method(http::to_string(route.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& path_item = paths[route.pattern];
    if (!path_item.is_object()) path_item = json::object{};
    path_item.as_object()[method] = std::move(operation);
  }

  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "BookSpace API"},
        {"version", BOOKSPACE_VERSION},
        {"description", "Self-hosted document management. Errors are application/problem+json."},
        {"license", {{"name", "MIT"}, {"url", "https://opensource.org/licenses/MIT"}}}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas", std::move(schemas)},
        {"headers", header_components()},
        {"responses",
         {{"Problem",
           problem_response("An error (RFC 9457 problem+json; `code` says which).", {"X-Request-Id"})},
          {"Unauthorized", problem_response("No valid credential (`unauthorized`, `invalid_credentials`).",
                                            {"X-Request-Id", "WWW-Authenticate"})},
          {"TooManyRequests",
           problem_response(
               "Rate limited (`rate_limited`): Retry-After says when to try again.",
               {"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"})},
          {"ProblemRetry",
           problem_response(
               "Not now: overloaded or the database unreachable (503), the disk full (507; a quota "
               "exceeded has no Retry-After). Retry-After says when to try again.",
               {"X-Request-Id", "Retry-After"})}}},
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}}}};
}

}  // namespace bookspace::app
