#include "routes.hpp"

#include "rules.hpp"
#include "service.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

namespace bookspace::jobs {

namespace json = boost::json;
namespace oa = http::openapi;
using core::ApiError;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t submit_body_limit = max_payload_bytes + 16 * 1024;
constexpr std::string_view list_kind = "jobs";
constexpr std::string_view attempts_kind = "job_attempts";

Caller caller_of(Request const& req) {
  return {req.ctx.principal.user_id, req.ctx.principal.role == "admin"};
}

std::string id_of(Request const& req) {
  return std::string(req.param("id"));
}

void write_optional_time(core::JsonWriter& w, std::string_view key, std::optional<long long> t) {
  w.key(key);
  if (t) {
    w.time(*t);
  } else {
    w.null();
  }
}

void write_json(core::JsonWriter& w, Job const& j) {
  w.begin_object();
  w.key("id").string(j.id);
  w.key("type").string(j.type);
  w.key("status").string(to_string(j.status));
  w.key("payload").raw(j.payload);
  w.key("result");
  if (j.result) {
    w.raw(*j.result);
  } else {
    w.null();
  }
  w.key("progress").integer(j.progress);
  w.key("attempts").integer(j.attempts);
  w.key("max_attempts").integer(j.max_attempts);
  w.key("last_error");
  if (j.last_error) {
    w.string(*j.last_error);
  } else {
    w.null();
  }
  w.key("run_at").time(j.run_at);
  w.key("created_at").time(j.created_at);
  write_optional_time(w, "started_at", j.started_at);
  write_optional_time(w, "finished_at", j.finished_at);
  w.key("owner_id").string(j.owner_id);
  w.key("cancel_requested").boolean(j.cancel_requested);
  w.end_object();
}

Response job_response(int status, Job const& j) {
  std::string body;
  core::JsonWriter w(body);
  write_json(w, j);
  return Response::json_text(status, std::move(body));
}

namespace handle {

core::Awaitable<Response> submit(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"type", "payload", "run_at", "max_attempts"});
  Submission s;
  s.type = http::string_field(body, "type");
  auto const* payload = body.if_contains("payload");
  payload_value(payload);  // 400 unless an object; 413 past 64 KiB
  if (payload && payload->is_object()) s.payload = payload->as_object();
  s.run_at = run_at_value(body.if_contains("run_at"), 0);  // 0: now (the queue never schedules in the past)
  if (auto const* m = body.if_contains("max_attempts"); m && !m->is_null())
    s.max_attempts = max_attempts_value(m, 1);
  auto job = co_await svc.submit(caller_of(req), std::move(s));
  co_return job_response(202, job);
}

core::Awaitable<Response> list(Service& svc, Request& req) {
  ListQuery q;
  q.limit = http::list_limit(req) + 1;
  const int limit = q.limit - 1;
  if (auto s = req.query_param("status")) {
    q.status = parse_status(*s);
    if (!q.status)
      throw ApiError(
          core::Error::validation("status", "one of queued, running, succeeded, failed, cancelled"));
  }
  if (auto t = req.query_param("type")) q.type = std::string(*t);
  if (auto o = req.query_param("owner_id")) q.owner_id = std::string(*o);  // admins; members see their own
  if (auto c = http::cursor_param(req, list_kind)) q.before_id = c->id;
  auto items = co_await svc.list(caller_of(req), std::move(q));
  co_return http::written_page(std::move(items), limit, write_json, [](Job const& j) {
    return http::Cursor{std::string(list_kind), "", j.id};
  });
}

core::Awaitable<Response> get(Service& svc, Request& req) {
  co_return job_response(200, co_await svc.get(caller_of(req), id_of(req)));
}

core::Awaitable<Response> attempts(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  int after = 0;
  if (auto c = http::cursor_param(req, attempts_kind)) after = static_cast<int>(http::integer_key(*c));
  const std::string id = id_of(req);
  auto items = co_await svc.attempts(caller_of(req), id, after, limit + 1);
  co_return http::page(
      std::move(items), limit,
      [](Attempt const& a) {
        json::object o{{"attempt", a.attempt},
                       {"worker", a.worker},
                       {"started_at", core::format_rfc3339(a.started_at)},
                       {"finished_at", nullptr},
                       {"outcome", nullptr},
                       {"error", nullptr}};
        if (a.finished_at) o["finished_at"] = core::format_rfc3339(*a.finished_at);
        if (a.outcome) o["outcome"] = *a.outcome;
        if (a.error) o["error"] = *a.error;
        return o;
      },
      [&id](Attempt const& a) {
        return http::Cursor{std::string(attempts_kind), std::to_string(a.attempt), id};
      });
}

core::Awaitable<Response> cancel(Service& svc, Request& req) {
  co_return job_response(200, co_await svc.cancel(caller_of(req), id_of(req)));
}

core::Awaitable<Response> retry(Service& svc, Request& req) {
  co_return job_response(200, co_await svc.retry(caller_of(req), id_of(req)));
}

}  // namespace handle

json::object job_op(std::string_view summary, std::string_view code, std::string_view description) {
  return oa::operation(summary, {{code, oa::json_response(description, oa::ref("Job"))}});
}

}  // namespace

void add_routes(http::Router& r, Service& svc) {
  auto submit = oa::documented(
      oa::with_problems(
          oa::operation("Enqueue a job. Honours Idempotency-Key. A type for administrators "
                        "only, submitted by a member: 403.",
                        {{"202", oa::json_response("Queued.", oa::ref("Job"))}}, oa::ref("JobSubmission")),
          {"403"}),
      {.body_limit = submit_body_limit});
  submit.idempotent = true;
  r.add(Method::post, "/api/v1/jobs", http::bind(svc, handle::submit), std::move(submit));
  r.add(Method::get, "/api/v1/jobs", http::bind(svc, handle::list),
        oa::documented(oa::list_operation(
            oa::operation("Your jobs, newest first (administrators: everyone's); keyset pages.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("Job")))}}),
            {oa::param("status", "query",
                       oa::enumeration({"queued", "running", "succeeded", "failed", "cancelled"}),
                       "Only jobs in this state."),
             oa::param("type", "query", oa::string(), "Only jobs of this type."),
             oa::param("owner_id", "query", oa::string(), "Administrators: only this user's jobs.")})));
  r.add(Method::get, "/api/v1/jobs/{id}", http::bind(svc, handle::get),
        oa::documented(job_op("A job: state, progress, result or last error.", "200", "The job.")));
  r.add(Method::get, "/api/v1/jobs/{id}/attempts", http::bind(svc, handle::attempts),
        oa::documented(oa::list_operation(
            oa::operation("A job's attempts, oldest first: when, where, how each ended and why.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("JobAttempt")))}}))));
  r.add(
      Method::post, "/api/v1/jobs/{id}/cancel", http::bind(svc, handle::cancel),
      oa::documented(oa::with_problems(job_op("Cancel: a queued job at once, a running one when its handler "
                                              "next checks (`cancel_requested`); an ended one → 409.",
                                              "200", "The job after the request."),
                                       {"409"}),
                     {.json_body = false}));
  r.add(Method::post, "/api/v1/jobs/{id}/retry", http::bind(svc, handle::retry),
        oa::documented(oa::with_problems(job_op("Queue a failed or cancelled job again, attempts reset; "
                                                "otherwise 409.",
                                                "200", "The job, queued."),
                                         {"409"}),
                       {.json_body = false}));
}

json::object openapi_schemas(QueueImpl const& queue) {
  json::array types;
  for (auto const& t : queue.types()) types.emplace_back(t.type);
  auto any_object = json::object{{"type", "object"}, {"additionalProperties", true}};
  auto any_value = json::object{{"type", "object"},
                                {"nullable", true},
                                {"additionalProperties", true},
                                {"description", "What the handler returned; null until the job succeeded."}};
  auto type = json::object{{"type", "string"}, {"description", "A registered job type."}};
  if (!types.empty()) type["enum"] = std::move(types);
  auto job = oa::object(
      {{"id", oa::string()},
       {"type", type},
       {"status", oa::enumeration({"queued", "running", "succeeded", "failed", "cancelled"})},
       {"payload", any_object},
       {"result", any_value},
       {"progress", oa::integer()},
       {"attempts", oa::integer()},
       {"max_attempts", oa::integer()},
       {"last_error", oa::nullable_string()},
       {"run_at", oa::date_time()},
       {"created_at", oa::date_time()},
       {"started_at", oa::nullable_date_time()},
       {"finished_at", oa::nullable_date_time()},
       {"owner_id", oa::string()},
       {"cancel_requested", oa::boolean()}},
      {"id", "type", "status", "payload", "result", "progress", "attempts", "max_attempts", "last_error",
       "run_at", "created_at", "started_at", "finished_at", "owner_id", "cancel_requested"});
  auto submission =
      oa::object({{"type", type},
                  {"payload", any_object},
                  {"run_at", oa::date_time()},
                  {"max_attempts", json::object{{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}}},
                 {"type"});
  auto attempt = oa::object(
      {{"attempt", oa::integer()},
       {"worker", oa::string()},
       {"started_at", oa::date_time()},
       {"finished_at", oa::nullable_date_time()},
       {"outcome", json::object{{"type", "string"},
                                {"nullable", true},
                                {"enum", json::array{"succeeded", "failed", "timed_out", "cancelled",
                                                     "lease_lost", "released", nullptr}}}},
       {"error", oa::nullable_string()}},
      {"attempt", "worker", "started_at", "finished_at", "outcome", "error"});
  return {
      {"Job", std::move(job)}, {"JobSubmission", std::move(submission)}, {"JobAttempt", std::move(attempt)}};
}

}  // namespace bookspace::jobs
