#include "routes.hpp"

#include "service.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace bookspace::search {

namespace json = boost::json;
namespace oa = http::openapi;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view list_kind = "search";

std::string score_text(double score) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", score);
  return buf;
}

void write_json(core::JsonWriter& w, Hit const& h) {
  w.begin_object();
  w.key("type").string(to_string(h.kind));
  w.key("id").string(h.id);
  w.key("title").string(h.title);
  w.key("snippet").string(mark_snippet(h.snippet));
  char score[32];
  std::snprintf(score, sizeof score, "%.6g", h.score);
  w.key("score").raw(score);
  w.key("updated_at").time(h.updated_at);
  w.end_object();
}

std::optional<Kind> kind_param(Request const& req) {
  auto type = req.query_param("type");
  if (!type || type->empty() || *type == "all") return std::nullopt;
  if (*type == "document") return Kind::document;
  if (*type == "file") return Kind::file;
  throw core::ApiError(core::Error::validation("type", "must be document, file or all"));
}

std::optional<After> after_param(Request const& req) {
  auto cursor = http::cursor_param(req, list_kind);
  if (!cursor) return std::nullopt;
  double score = 0;
  auto const* end = cursor->key.data() + cursor->key.size();
  auto [ptr, ec] = std::from_chars(cursor->key.data(), end, score);
  if (ec != std::errc() || ptr != end || !std::isfinite(score))
    throw core::ApiError(core::Error::validation("cursor", "is not a cursor of this list"));
  return After{score, cursor->id};
}

namespace handle {

core::Awaitable<Response> search(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  auto q = req.query_param("q");
  if (!q) throw core::ApiError(core::Error::validation("q", "is required"));
  auto kind = kind_param(req);
  auto after = after_param(req);
  auto hits = co_await svc.search(req.ctx.principal.user_id, std::move(*q), kind, std::move(after), limit);
  co_return http::written_page(std::move(hits), limit, write_json, [](Hit const& h) {
    return http::Cursor{std::string(list_kind), score_text(h.score), h.id};
  });
}

}  // namespace handle

}  // namespace

void add_routes(http::Router& r, Service& svc) {
  r.add(Method::get, "/api/v1/search", http::bind(svc, &handle::search),
        oa::documented(oa::list_operation(
            oa::operation(
                "Full-text search over what you may read: documents (title, tags, content) and files "
                "(name, extracted text), best first. Query: words (all must match), \"exact phrase\", "
                "prefix* (2+ characters), -excluded; any other character is literal text.",
                {{"200", oa::json_response("A page of hits.", oa::list_of(oa::ref("SearchHit")))}}),
            {oa::required(oa::param("q", "query", oa::string(), "The query (at most 1000 bytes).")),
             oa::param("type", "query", oa::enumeration({"document", "file", "all"}),
                       "What to search (all).")})));
}

json::object openapi_schemas() {
  return {{"SearchHit", oa::object({{"type", oa::enumeration({"document", "file"})},
                                    {"id", oa::string()},
                                    {"title", oa::string()},
                                    {"snippet", oa::string()},
                                    {"score", json::object{{"type", "number"}}},
                                    {"updated_at", oa::date_time()}},
                                   {"type", "id", "title", "snippet", "score", "updated_at"})}};
}

}  // namespace bookspace::search
