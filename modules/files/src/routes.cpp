#include "routes.hpp"

#include "multipart.hpp"
#include "rules.hpp"
#include "service.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "http/openapi.hpp"
#include "http/pagination.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <utility>

namespace bookspace::files {

namespace json = boost::json;
namespace oa = http::openapi;
using core::ApiError;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view list_kind = "files";

std::string user_of(Request const& req) {
  return req.ctx.principal.user_id;
}
std::string id_of(Request const& req) {
  return std::string(req.param("id"));
}

void write_json(core::JsonWriter& w, File const& f) {
  w.begin_object();
  w.key("id").string(f.id);
  w.key("name").string(f.name);
  w.key("content_type").string(f.content_type);
  w.key("size").integer(f.size);
  w.key("sha256").string(f.sha256);
  w.key("owner_id").string(f.owner_id);
  w.key("document_id");
  if (f.document_id) {
    w.string(*f.document_id);
  } else {
    w.null();
  }
  w.key("created_at").time(f.created_at);
  w.end_object();
}

Response file_response(int status, File const& f) {
  std::string body;
  core::JsonWriter w(body);
  write_json(w, f);
  return Response::json_text(status, std::move(body));
}

std::string etag_of(File const& f) {
  return "\"" + f.sha256 + "\"";
}

/// If-None-Match: any listed tag (weak or strong) equal to ours, or `*`.
bool none_match(std::string_view header, std::string const& etag) {
  if (header.find('*') != std::string_view::npos) return true;
  std::size_t at = 0;
  while ((at = header.find(std::string_view(etag).substr(1, etag.size() - 2), at)) !=
         std::string_view::npos) {
    if (at > 0 && header[at - 1] == '"' && at + etag.size() - 2 < header.size() &&
        header[at + etag.size() - 2] == '"')
      return true;
    ++at;
  }
  return false;
}

namespace handle {

core::Awaitable<Response> upload(Service& svc, Request& req) {
  Upload up;
  up.user = user_of(req);
  if (auto name = req.query_param("name")) up.name = sanitize_name(std::string_view(*name));
  if (auto ct = req.header("Content-Type")) {
    up.boundary = multipart_boundary(*ct);
    if (!up.boundary) up.claimed_type = std::string(*ct);
  }
  if (auto doc = req.query_param("document_id"); doc && !doc->empty()) up.document_id = *doc;
  auto f = co_await svc.upload(std::move(up), *req.body_stream);
  auto res = file_response(201, f);
  res.headers.add("Location", "/api/v1/files/" + f.id);
  co_return res;
}

core::Awaitable<Response> list(Service& svc, Request& req) {
  const int limit = http::list_limit(req);
  std::string before;
  if (auto c = http::cursor_param(req, list_kind)) before = c->id;
  std::optional<std::string> doc;
  if (auto d = req.query_param("document_id"); d && !d->empty()) doc = *d;
  auto items = co_await svc.list(user_of(req), std::move(doc), std::move(before), limit + 1);
  co_return http::written_page(std::move(items), limit, write_json, [](File const& f) {
    return http::Cursor{std::string(list_kind), "", f.id};
  });
}

core::Awaitable<Response> get(Service& svc, Request& req) {
  co_return file_response(200, co_await svc.get(id_of(req), user_of(req)));
}

/// Closes a descriptor unless it was handed on.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

/// The content for a signed-in reader, or for anyone holding a signed link (the only place a
/// credential in a query string counts).
core::Awaitable<Content> content_for(Service& svc, Request& req) {
  // A signed link's signature alone decides, whoever else's Bearer token comes along with it.
  auto expires = req.query_param("expires"), signature = req.query_param("signature");
  if (expires || signature) {
    if (!expires || !signature)
      throw ApiError(core::Error::validation(expires ? "signature" : "expires", "a signed link needs both"));
    co_return co_await svc.open_link(id_of(req), std::move(*expires), std::move(*signature));
  }
  if (req.ctx.principal.authenticated()) co_return co_await svc.open(id_of(req), user_of(req));
  throw ApiError(core::ErrorCode::unauthorized, "Authentication is required.");
}

core::Awaitable<Response> content(Service& svc, Request& req) {
  auto c = co_await content_for(svc, req);
  FdGuard guard{c.fd};
  // files.s3.presign_downloads: the bucket serves the bytes (Range included), we only decide who.
  if (auto url = co_await svc.presigned(c.file, content_disposition(c.file.name))) {
    Response moved{302, {}, {}};
    moved.headers.add("Location", *url);
    moved.headers.add("Cache-Control", "no-store");
    co_return moved;
  }
  const std::string etag = etag_of(c.file);
  Response res{200, {}, {}};
  res.headers.add("ETag", etag);
  res.headers.add("Accept-Ranges", "bytes");
  res.headers.add("Cache-Control", "private");
  res.headers.add("X-Content-Type-Options", "nosniff");
  if (auto inm = req.header("If-None-Match"); inm && none_match(*inm, etag)) {
    res.status = 304;
    co_return res;
  }
  res.headers.add("Content-Type", c.file.content_type);
  res.headers.add("Content-Disposition", content_disposition(c.file.name));
  const auto size = static_cast<std::uint64_t>(c.file.size);
  const auto range = parse_range(req.header("Range"), size);
  if (range.kind == RangeKind::unsatisfiable) {
    auto problem = http::problem(
        core::Error{core::ErrorCode::range_not_satisfiable, "The range starts past the end of the file.", {}},
        req.ctx.request_id);
    problem.headers.add("Content-Range", "bytes */" + std::to_string(size));
    co_return problem;
  }
  std::uint64_t offset = 0, length = size;
  if (range.kind == RangeKind::partial) {
    res.status = 206;
    offset = range.range.first;
    length = range.range.length();
    res.headers.add("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                         std::to_string(range.range.last) + "/" + std::to_string(size));
  }
  if (guard.fd >= 0)
    res.file = std::make_shared<http::FileBody>(guard.release(), offset, length);
  else
    res.source = svc.stream(c.file, offset, length);
  co_return res;
}

core::Awaitable<Response> link(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"expires_in"});
  auto const* v = body.if_contains("expires_in");
  if (!v || !v->is_int64() || v->as_int64() < 1 || v->as_int64() > max_link_seconds)
    throw ApiError(core::Error::validation("expires_in", "seconds, from 1 to 604800 (7 days)"));
  auto l = co_await svc.link(id_of(req), user_of(req), v->as_int64());
  co_return Response::json(201, {{"url", l.url}, {"expires_at", core::format_rfc3339(l.expires_at)}});
}

Response usage_response(Usage const& u) {
  json::value quota = nullptr;
  if (u.quota_bytes > 0) quota = u.quota_bytes;
  return Response::json(200, {{"user_id", u.user_id},
                              {"used_bytes", u.used_bytes},
                              {"pending_bytes", u.pending_bytes},
                              {"quota_bytes", quota}});
}

core::Awaitable<Response> usage(Service& svc, Request& req) {
  co_return usage_response(co_await svc.usage(user_of(req)));
}

core::Awaitable<Response> set_quota(Service& svc, Request& req) {
  auto body = http::parse_json_object(req);
  http::only_fields(body, {"quota_bytes"});
  auto const* v = body.if_contains("quota_bytes");
  if (!v || !(v->is_null() || (v->is_int64() && v->as_int64() >= 0)))
    throw ApiError(core::Error::validation("quota_bytes", "bytes (0: no limit), or null for the default"));
  std::optional<std::int64_t> bytes;
  if (!v->is_null()) bytes = v->as_int64();
  const bool admin = req.ctx.principal.role == "admin";
  co_return usage_response(co_await svc.set_quota(admin, std::string(req.param("user_id")), bytes));
}

core::Awaitable<Response> remove(Service& svc, Request& req) {
  co_await svc.remove(id_of(req), user_of(req));
  co_return Response::no_content();
}

}  // namespace handle

/// POST /files: a raw body of any type or a multipart form, streamed; its statuses.
http::RouteOptions upload_options(std::uint64_t max_file_bytes) {
  auto upload = oa::documented(
      oa::with_params(
          oa::with_problems(
              oa::operation(
                  "Upload a file: the raw body (any type), streamed, or multipart/form-data whose part "
                  "`file` is the file. Over the size limit → 413, over your quota or the disk full → "
                  "507, a type files.allowed_types refuses → 415, a document you may only read → 403.",
                  {{"201",
                    oa::with_headers(oa::json_response("Stored; `Location` names it.", oa::ref("File")),
                                     {"Location"})}}),
              {"403", "415", "507"}),
          {oa::param("name", "query", oa::string(), "The file's name (a path is cut to its last part)."),
           oa::param("document_id", "query", oa::string(),
                     "Attach to this document (needs editor rights).")}),
      {.body_limit = static_cast<std::size_t>(max_file_bytes),
       .json_body = false,
       .stream_body = true,
       .idempotent = true});
  const json::object bytes{{"type", "string"}, {"format", "binary"}};
  upload.openapi.as_object()["requestBody"] = json::object{
      {"required", false},  // an empty body is an empty file
      {"content", json::object{{"multipart/form-data",
                                json::object{{"schema", oa::object({{"file", bytes}}, {"file"})}}},
                               {"*/*", json::object{{"schema", bytes}}}}}};
  return upload;
}

/// GET and HEAD /files/{id}/content: the bytes of any type, with their headers and statuses.
json::object content_operation() {
  auto file_response = [](std::string_view description) {
    return oa::with_headers(
        oa::binary_response(description),
        {"ETag", "Accept-Ranges", "Cache-Control", "X-Content-Type-Options", "Content-Disposition"});
  };
  auto whole = file_response("The bytes, of the file's own type.");
  auto part = oa::with_headers(file_response("The requested range."), {"Content-Range"});
  auto content_doc = oa::with_params(
      oa::with_problems(
          oa::operation(
              "The file's bytes: ETag (its SHA-256), If-None-Match → 304, one Range → 206, a range"
              " past the end → 416 (with `Content-Range: bytes */size`); a signed link past its"
              " expiry → 410.",
              {{"200", whole},
               {"206", part},
               {"302", oa::with_headers(oa::empty_response("files.s3.presign_downloads: the bytes "
                                                           "are at a presigned URL of the bucket (5 "
                                                           "minutes), Range included."),
                                        {"Location", "Cache-Control"})},
               {"304", oa::with_headers(oa::empty_response("If-None-Match matched."), {"ETag"})}}),
          {"410", "416"}),
      {oa::param("Range", "header", oa::string(), "bytes=a-b, a- or -n."),
       oa::param("If-None-Match", "header", oa::string(), "An ETag you hold."),
       oa::param("expires", "query", oa::integer(), "A signed link's expiry (Unix seconds)."),
       oa::param("signature", "query", oa::string(), "A signed link's signature: no Bearer needed.")});
  return content_doc;
}

}  // namespace

void add_routes(http::Router& r, Service& svc, std::uint64_t max_file_bytes) {
  auto upload = upload_options(max_file_bytes);
  r.add(Method::post, "/api/v1/files", http::bind(svc, handle::upload), std::move(upload));
  r.add(
      Method::get, "/api/v1/files", http::bind(svc, handle::list),
      oa::documented(oa::list_operation(
          oa::operation("Your files, newest first; with `document_id`, the files of a document you can read.",
                        {{"200", oa::json_response("A page.", oa::list_of(oa::ref("File")))}}),
          {oa::param("document_id", "query", oa::string(), "A document's files instead of yours.")})));
  r.add(Method::get, "/api/v1/files/{id}", http::bind(svc, handle::get),
        oa::documented(
            oa::operation("A file's metadata.", {{"200", oa::json_response("The file.", oa::ref("File"))}})));
  auto content_doc = content_operation();
  auto content_options = oa::documented(content_doc);
  content_options.auth = http::Auth::optional;  // a signed link stands in for the credential
  r.add(Method::get, "/api/v1/files/{id}/content", http::bind(svc, handle::content), content_options);
  // HEAD as its own operation, so clients see it (the server would answer it from GET anyway).
  content_doc["summary"] = "The file's headers without its bytes (as GET: ETag, length, Range → 206…).";
  content_options.openapi = std::move(content_doc);
  r.add(Method::head, "/api/v1/files/{id}/content", http::bind(svc, handle::content),
        std::move(content_options));
  r.add(Method::post, "/api/v1/files/{id}/links", http::bind(svc, handle::link),
        oa::documented(oa::operation(
            "A link to the content that works without authentication until it expires (at most 7 days);"
            " tampered → 404, expired → 410.",
            {{"201", oa::json_response("The link (a path on this server).", oa::ref("FileLink"))}},
            oa::object({{"expires_in", oa::integer()}}, {"expires_in"}))));
  r.add(Method::get, "/api/v1/files/usage", http::bind(svc, handle::usage),
        oa::documented(oa::operation("Your storage: logical bytes used and your quota (null: none).",
                                     {{"200", oa::json_response("Usage.", oa::ref("FileUsage"))}})));
  r.add(
      Method::put, "/api/v1/quotas/{user_id}", http::bind(svc, handle::set_quota),
      oa::documented(oa::with_problems(
          oa::operation("Administrators: a user's quota in bytes (0: none), or null for files.quota_bytes.",
                        {{"200", oa::json_response("The user's usage and quota.", oa::ref("FileUsage"))}},
                        oa::object({{"quota_bytes",
                                     json::object{{"type", "integer"}, {"nullable", true}, {"minimum", 0}}}},
                                   {"quota_bytes"})),
          {"403"})));
  r.add(Method::del, "/api/v1/files/{id}", http::bind(svc, handle::remove),
        oa::documented(
            oa::with_problems(oa::operation("Delete a file (its owner; a reader of its document: 403).",
                                            {{"204", oa::empty_response("Deleted.")}}),
                              {"403"})));
}

json::object openapi_schemas() {
  return {{"File", oa::object({{"id", oa::string()},
                               {"name", oa::string()},
                               {"content_type", oa::string()},
                               {"size", oa::integer()},
                               {"sha256", oa::string()},
                               {"owner_id", oa::string()},
                               {"document_id", oa::nullable_string()},
                               {"created_at", oa::date_time()}},
                              {"id", "name", "content_type", "size", "sha256", "owner_id", "document_id",
                               "created_at"})},
          {"FileUsage", oa::object({{"user_id", oa::string()},
                                    {"used_bytes", oa::integer()},
                                    {"pending_bytes", oa::integer()},
                                    {"quota_bytes", json::object{{"type", "integer"}, {"nullable", true}}}},
                                   {"user_id", "used_bytes", "pending_bytes", "quota_bytes"})},
          {"FileLink",
           oa::object({{"url", oa::string()}, {"expires_at", oa::date_time()}}, {"url", "expires_at"})}};
}

}  // namespace bookspace::files
