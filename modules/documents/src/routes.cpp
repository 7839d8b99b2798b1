#include "routes.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"
#include "rules.hpp"
#include "service.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace bookspace::documents {

namespace json = boost::json;
namespace oa = http::openapi;
using core::ApiError;
using core::ErrorCode;
using http::Cursor;
using http::cursor_param;
using http::integer_key;
using http::Method;
using http::page;
using http::Request;
using http::Response;

namespace {

// A JSON-escaped 1 MiB of content may take up to six times its size on the wire; the 1 MiB
// limit itself is checked on the decoded text (413 on field `content`).
constexpr std::size_t document_body_limit = 6 * max_content_bytes + 64 * 1024;
constexpr std::size_t comment_body_limit = 256 * 1024;

std::string user_of(Request const& req) {
  return req.ctx.principal.user_id;
}
std::string id_of(Request const& req) {
  return std::string(req.param("id"));
}

std::optional<std::string> header(Request const& req, std::string_view name) {
  auto v = req.header(name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

/// A path segment that must be a version number; anything else names no version (404).
long long version_param(Request const& req) {
  auto text = req.param("n");
  long long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1)
    throw ApiError(ErrorCode::not_found, "No such version.");
  return n;
}

Response document_response(int status, Document const& d) {
  std::string body;
  body.reserve(256 + d.content.size() + d.content.size() / 8);
  core::JsonWriter w(body);
  write_json(w, d);
  auto res = Response::json_text(status, std::move(body));
  res.headers.add("ETag", etag(d.version));
  return res;
}

json::object version_json(Version const& v, bool full) {
  json::object o{{"version", v.version}, {"title", v.title}};
  if (full) {
    o["content"] = v.content;
    o["tags"] = json::parse(v.tags);
  }
  o["author_id"] = v.author_id;
  o["created_at"] = core::format_rfc3339(v.created_at);
  return o;
}

json::object share_json(Share const& s) {
  return {{"user_id", s.user_id},
          {"role", to_string(s.role)},
          {"created_at", core::format_rfc3339(s.created_at)}};
}

json::object comment_json(Comment const& c) {
  return {{"id", c.id},
          {"document_id", c.document_id},
          {"author_id", c.author_id},
          {"body", c.body},
          {"created_at", core::format_rfc3339(c.created_at)}};
}

ListQuery list_query(Request const& req) {
  ListQuery q;
  q.user = user_of(req);
  q.limit = http::list_limit(req);
  auto sort = req.query_param("sort").value_or("-updated_at");
  if (sort == "-updated_at") {
    q.sort = Sort::updated_desc;
  } else if (sort == "updated_at") {
    q.sort = Sort::updated_asc;
  } else if (sort == "title") {
    q.sort = Sort::title;
  } else {
    throw ApiError(core::Error::validation("sort", "one of -updated_at, updated_at, title"));
  }
  auto scope = req.query_param("scope").value_or("all");
  if (scope == "all") {
    q.scope = Scope::all;
  } else if (scope == "owned") {
    q.scope = Scope::owned;
  } else if (scope == "shared") {
    q.scope = Scope::shared;
  } else {
    throw ApiError(core::Error::validation("scope", "one of owned, shared, all"));
  }
  if (auto tag = req.query_param("tag")) {
    q.tag = normalize_tag(*tag);
    if (!q.tag) throw ApiError(core::Error::validation("tag", "1–64 characters"));
  }
  if (auto c = cursor_param(req, sort)) {
    if (q.sort != Sort::title) integer_key(*c);
    q.after_key = c->key;
    q.after_id = c->id;
  }
  return q;
}

Changes changes_of(json::object const& body, bool all_optional) {
  Changes c;
  if (auto const* v = body.if_contains("title")) c.title = title_value(*v);
  if (auto const* v = body.if_contains("content")) c.content = content_value(*v);
  if (auto const* v = body.if_contains("tags")) c.tags = tags_value(*v);
  if (!all_optional && !c.title) throw ApiError(core::Error::validation("title", "is required"));
  if (all_optional && !c.title && !c.content && !c.tags)
    throw ApiError(core::Error::validation("body", "change at least one of title, content, tags"));
  return c;
}

// --- OpenAPI ------------------------------------------------------------------------------
using oa::param;

json::object if_match_doc() {
  return param("If-Match", "header", oa::string(), "The ETag last read: required (428 without, 412 stale).");
}

http::RouteOptions documented(json::object op, std::size_t body_limit = 0) {
  http::RouteOptions o;
  o.body_limit = body_limit;
  // Browsers may send the version preconditions and read the version and a new document's URL.
  o.cors_request_headers = {"If-Match", "If-None-Match"};
  o.cors_expose_headers = {"ETag", "Location"};
  return oa::documented(std::move(op), std::move(o));
}

json::object document_body(bool create) {
  json::object props{{"title", oa::string()},
                     {"content", oa::string()},
                     {"tags", {{"type", "array"}, {"items", oa::string()}, {"maxItems", 32}}}};
  return create ? oa::object(std::move(props), {"title"}) : oa::object(std::move(props), {});
}

}  // namespace

json::object openapi_schemas() {
  auto tags = json::object{{"type", "array"}, {"items", oa::string()}};
  auto role = oa::enumeration({"owner", "editor", "viewer"});
  auto document = [&](bool content) {
    json::object props{{"id", oa::string()},
                       {"title", oa::string()},
                       {"tags", tags},
                       {"owner_id", oa::string()},
                       {"version", oa::integer()},
                       {"created_at", oa::date_time()},
                       {"updated_at", oa::date_time()},
                       {"role", role}};
    if (content) {
      props["content"] = oa::string();
      return oa::object(std::move(props), {"id", "title", "content", "tags", "owner_id", "version",
                                           "created_at", "updated_at", "role"});
    }
    return oa::object(std::move(props),
                      {"id", "title", "tags", "owner_id", "version", "created_at", "updated_at", "role"});
  };
  return {
      {"Document", document(true)},
      {"DocumentSummary", document(false)},
      {"VersionSummary", oa::object({{"version", oa::integer()},
                                     {"title", oa::string()},
                                     {"author_id", oa::string()},
                                     {"created_at", oa::date_time()}},
                                    {"version", "title", "author_id", "created_at"})},
      {"Version", oa::object({{"version", oa::integer()},
                              {"title", oa::string()},
                              {"content", oa::string()},
                              {"tags", tags},
                              {"author_id", oa::string()},
                              {"created_at", oa::date_time()}},
                             {"version", "title", "content", "tags", "author_id", "created_at"})},
      {"Share", oa::object({{"user_id", oa::string()},
                            {"role", oa::enumeration({"viewer", "editor"})},
                            {"created_at", oa::date_time()}},
                           {"user_id", "role", "created_at"})},
      {"Comment", oa::object({{"id", oa::string()},
                              {"document_id", oa::string()},
                              {"author_id", oa::string()},
                              {"body", oa::string()},
                              {"created_at", oa::date_time()}},
                             {"id", "document_id", "author_id", "body", "created_at"})},
      {"TrashedDocument",
       oa::object({{"id", oa::string()}, {"title", oa::string()}, {"deleted_at", oa::date_time()}},
                  {"id", "title", "deleted_at"})},
  };
}

namespace {

// --- one function per route (named as the Service call they make) -------------------------
namespace handle {

core::Awaitable<Response> create(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"title", "content", "tags"});
  auto c = changes_of(body, false);
  auto d = co_await svc.create(user_of(req), std::move(*c.title), c.content.value_or(""),
                               c.tags.value_or(std::vector<std::string>{}));
  auto res = document_response(201, d);
  res.headers.add("Location", "/api/v1/documents/" + d.id);
  co_return res;
}

core::Awaitable<Response> list(Service& svc, Request& req) {
  auto q = list_query(req);
  const Sort sort = q.sort;
  const int limit = q.limit;
  std::string kind = sort == Sort::updated_desc  ? "-updated_at"
                     : sort == Sort::updated_asc ? "updated_at"
                                                 : "title";
  auto items = co_await svc.list(std::move(q));
  co_return http::written_page(
      std::move(items), limit, [](core::JsonWriter& w, Document const& d) { write_json(w, d, false); },
      [&](Document const& d) {
        return Cursor{kind, sort_key(d, sort), d.id};
      });
}

core::Awaitable<Response> get(Service& svc, Request& req) {
  auto d = co_await svc.get(id_of(req), user_of(req));
  if (auto inm = req.header("If-None-Match"); inm && etag_matches(*inm, d.version, true)) {
    Response res{304, {}, {}};
    res.headers.add("ETag", etag(d.version));
    co_return res;
  }
  co_return document_response(200, d);
}

core::Awaitable<Response> update(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"title", "content", "tags"});
  auto d = co_await svc.update(id_of(req), user_of(req), header(req, "If-Match"), changes_of(body, true));
  co_return document_response(200, d);
}

core::Awaitable<Response> trash(Service& svc, Request& req) {
  co_await svc.trash(id_of(req), user_of(req));
  co_return Response::no_content();
}

core::Awaitable<Response> versions(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  std::string id = id_of(req);
  auto c = cursor_param(req, "versions");
  auto items = co_await svc.versions(id, user_of(req), c ? integer_key(*c) : 0, limit + 1);
  co_return page(
      std::move(items), limit, [](Version const& v) { return version_json(v, false); },
      [&](Version const& v) {
        return Cursor{"versions", std::to_string(v.version), id};
      });
}

core::Awaitable<Response> version(Service& svc, Request& req) {
  auto v = co_await svc.version(id_of(req), user_of(req), version_param(req));
  co_return Response::json(200, version_json(v, true));
}

core::Awaitable<Response> restore(Service& svc, Request& req) {
  if (!req.body.empty()) http::only_fields(http::parse_json_object(req), {});
  auto d =
      co_await svc.restore_version(id_of(req), user_of(req), header(req, "If-Match"), version_param(req));
  co_return document_response(200, d);
}

core::Awaitable<Response> shares(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  auto c = cursor_param(req, "shares");
  std::string after = c ? c->key : std::string();  // named: GCC 12 mishandles prvalue coroutine args
  auto items = co_await svc.shares(id_of(req), user_of(req), std::move(after), limit + 1);
  co_return page(std::move(items), limit, share_json, [](Share const& s) {
    return Cursor{"shares", s.user_id, "-"};
  });
}

core::Awaitable<Response> share(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"role"});
  auto role_text = http::string_field(body, "role");
  Role role = role_text == "viewer" ? Role::viewer : role_text == "editor" ? Role::editor : Role::none;
  if (role == Role::none) throw ApiError(core::Error::validation("role", "viewer or editor"));
  auto s = co_await svc.share(id_of(req), user_of(req), std::string(req.param("user_id")), role);
  co_return Response::json(200, share_json(s));
}

core::Awaitable<Response> unshare(Service& svc, Request& req) {
  co_await svc.unshare(id_of(req), user_of(req), std::string(req.param("user_id")));
  co_return Response::no_content();
}

core::Awaitable<Response> comments(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  auto c = cursor_param(req, "comments");
  std::string after = c ? c->id : std::string();  // named: GCC 12 mishandles prvalue coroutine args
  auto items = co_await svc.comments(id_of(req), user_of(req), std::move(after), limit + 1);
  co_return page(std::move(items), limit, comment_json, [](Comment const& cm) {
    return Cursor{"comments", "-", cm.id};
  });
}

core::Awaitable<Response> comment(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"body"});
  auto const* text = body.if_contains("body");
  if (!text) throw ApiError(core::Error::validation("body", "is required"));
  auto c = co_await svc.add_comment(id_of(req), user_of(req), comment_value(*text));
  auto res = Response::json(201, comment_json(c));
  res.headers.add("Location", "/api/v1/documents/" + c.document_id + "/comments/" + c.id);
  co_return res;
}

core::Awaitable<Response> uncomment(Service& svc, Request& req) {
  co_await svc.delete_comment(id_of(req), user_of(req), std::string(req.param("cid")));
  co_return Response::no_content();
}

core::Awaitable<Response> trash_list(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  auto c = cursor_param(req, "trash");
  std::optional<long long> key;
  if (c) key = integer_key(*c);
  std::string after = c ? c->id : std::string();  // named: GCC 12 mishandles prvalue coroutine args
  auto items = co_await svc.trash_list(user_of(req), key, std::move(after), limit + 1);
  co_return page(
      std::move(items), limit,
      [](Trashed const& t) {
        return json::object{
            {"id", t.id}, {"title", t.title}, {"deleted_at", core::format_rfc3339(t.deleted_at)}};
      },
      [](Trashed const& t) {
        return Cursor{"trash", std::to_string(t.deleted_at), t.id};
      });
}

core::Awaitable<Response> untrash(Service& svc, Request& req) {
  auto d = co_await svc.untrash(id_of(req), user_of(req));
  co_return document_response(200, d);
}

core::Awaitable<Response> purge(Service& svc, Request& req) {
  co_await svc.purge(id_of(req), user_of(req));
  co_return Response::no_content();
}

}  // namespace handle

/// A Document answer: its version in ETag.
json::object versioned(std::string_view description) {
  return oa::with_headers(oa::json_response(description, oa::ref("Document")), {"ETag"});
}

void add_document_routes(http::Router& r, Service& svc) {
  auto create_options = documented(
      oa::operation("Create a document (version 1). Honours Idempotency-Key.",
                    {{"201", oa::with_headers(oa::json_response("Created; `Location` and `ETag: \"1\"`.",
                                                                oa::ref("Document")),
                                              {"Location", "ETag"})}},
                    document_body(true)),
      document_body_limit);
  create_options.idempotent = true;
  r.add(Method::post, "/api/v1/documents", http::bind(svc, handle::create), std::move(create_options));
  r.add(Method::get, "/api/v1/documents", http::bind(svc, handle::list),
        documented(oa::with_params(
            oa::operation("Documents you may read, without content; keyset pages.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("DocumentSummary")))}}),
            {oa::limit_param(), oa::cursor_param(),
             param("tag", "query", oa::string(), "Only documents with this tag."),
             param("scope", "query", oa::enumeration({"owned", "shared", "all"}), "Whose documents (all)."),
             param("sort", "query", oa::enumeration({"-updated_at", "updated_at", "title"}),
                   "Order (-updated_at).")})));
  r.add(
      Method::get, "/api/v1/documents/{id}", http::bind(svc, handle::get),
      documented(oa::with_params(
          oa::operation("A document with its content; `ETag: \"<version>\"`.",
                        {{"200", versioned("The document.")},
                         {"304", oa::with_headers(oa::empty_response("If-None-Match matched."), {"ETag"})}}),
          {param("If-None-Match", "header", oa::string(), "An ETag you hold.")})));
  r.add(Method::patch, "/api/v1/documents/{id}", http::bind(svc, handle::update),
        documented(
            oa::with_params(
                oa::with_problems(oa::operation("Change a document (editors and owner): a new version. "
                                                "A viewer: 403; no If-Match: 428; a stale one: 412.",
                                                {{"200", versioned("The document.")}}, document_body(false)),
                                  {"403", "412", "428"}),
                {if_match_doc()}),
            document_body_limit));
  r.add(Method::del, "/api/v1/documents/{id}", http::bind(svc, handle::trash),
        documented(oa::with_problems(oa::operation("Owner: move the document to the trash.",
                                                   {{"204", oa::empty_response("In the trash.")}}),
                                     {"403"})));
}

void add_versions_routes(http::Router& r, Service& svc) {
  r.add(Method::get, "/api/v1/documents/{id}/versions", http::bind(svc, handle::versions),
        documented(oa::with_params(
            oa::operation("Versions, newest first.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("VersionSummary")))}}),
            {oa::limit_param(), oa::cursor_param()})));
  r.add(Method::get, "/api/v1/documents/{id}/versions/{n}", http::bind(svc, handle::version),
        documented(oa::operation("One version in full.",
                                 {{"200", oa::json_response("The version.", oa::ref("Version"))}})));
  r.add(Method::post, "/api/v1/documents/{id}/versions/{n}/restore", http::bind(svc, handle::restore),
        documented(oa::with_params(
            oa::with_problems(
                oa::operation("Editors and owner: a new version with version n's title, content and tags. "
                              "A viewer: 403; no If-Match: 428; a stale one: 412.",
                              {{"200", versioned("The document.")}}),
                {"403", "412", "428"}),
            {if_match_doc()})));
}

void add_shares_routes(http::Router& r, Service& svc) {
  r.add(Method::get, "/api/v1/documents/{id}/shares", http::bind(svc, handle::shares),
        documented(oa::with_params(
            oa::operation("Who the document is shared with (readers may look).",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("Share")))}}),
            {oa::limit_param(), oa::cursor_param()})));
  r.add(Method::put, "/api/v1/documents/{id}/shares/{user_id}", http::bind(svc, handle::share),
        documented(oa::with_problems(
            oa::operation("Owner: share with a user as viewer or editor (or change their role).",
                          {{"200", oa::json_response("The share.", oa::ref("Share"))}},
                          oa::object({{"role", oa::enumeration({"viewer", "editor"})}}, {"role"})),
            {"403"})));
  r.add(Method::del, "/api/v1/documents/{id}/shares/{user_id}", http::bind(svc, handle::unshare),
        documented(oa::with_problems(oa::operation("Owner: revoke a share (effective on the next request).",
                                                   {{"204", oa::empty_response("Revoked.")}}),
                                     {"403"})));
}

void add_comments_routes(http::Router& r, Service& svc) {
  r.add(Method::get, "/api/v1/documents/{id}/comments", http::bind(svc, handle::comments),
        documented(oa::with_params(
            oa::operation("Comments, oldest first.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("Comment")))}}),
            {oa::limit_param(), oa::cursor_param()})));
  r.add(Method::post, "/api/v1/documents/{id}/comments", http::bind(svc, handle::comment),
        documented(oa::operation("Any reader: comment (1–10,000 characters).",
                                 {{"201", oa::json_response("The comment.", oa::ref("Comment"))}},
                                 oa::object({{"body", oa::string()}}, {"body"})),
                   comment_body_limit));
  r.add(Method::del, "/api/v1/documents/{id}/comments/{cid}", http::bind(svc, handle::uncomment),
        documented(oa::with_problems(oa::operation("The comment's author or the document's owner: delete it.",
                                                   {{"204", oa::empty_response("Deleted.")}}),
                                     {"403"})));
}

void add_trash_routes(http::Router& r, Service& svc) {
  r.add(Method::get, "/api/v1/trash", http::bind(svc, handle::trash_list),
        documented(oa::with_params(
            oa::operation("Your trashed documents, most recently deleted first.",
                          {{"200", oa::json_response("A page.", oa::list_of(oa::ref("TrashedDocument")))}}),
            {oa::limit_param(), oa::cursor_param()})));
  r.add(Method::post, "/api/v1/trash/{id}/restore", http::bind(svc, handle::untrash),
        documented(oa::operation("Take a document out of the trash, shares included.",
                                 {{"200", versioned("The document.")}})));
  r.add(Method::del, "/api/v1/trash/{id}", http::bind(svc, handle::purge),
        documented(oa::operation("Delete a trashed document for good: versions, comments and shares too.",
                                 {{"204", oa::empty_response("Gone.")}})));
}

}  // namespace

void add_routes(http::Router& r, Service& svc) {
  add_document_routes(r, svc);
  add_versions_routes(r, svc);
  add_shares_routes(r, svc);
  add_comments_routes(r, svc);
  add_trash_routes(r, svc);
}

}  // namespace bookspace::documents
