#include "tus.hpp"

#include "rules.hpp"
#include "service.hpp"

#include "core/async.hpp"
#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/worker_pool.hpp"
#include "http/openapi.hpp"
#include "http/router.hpp"

#include <soci/soci.h>
#include <sodium.h>
#include <boost/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>

namespace bookspace::files {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view tus_version = "1.0.0";
constexpr std::string_view offset_octets = "application/offset+octet-stream";
constexpr long long lease_ms = 60'000;
/// A PATCH records its offset (fdatasync, then UPDATE) at least this often while it streams, so a
/// crash or a cut connection loses little.
constexpr std::uint64_t checkpoint_bytes = 16u << 20;
constexpr auto checkpoint_every = std::chrono::seconds(2);

struct Tus {
  Service& service;
  TusSettings settings;
};

ApiError no_such_upload() {
  return ApiError(ErrorCode::not_found, "No such upload.");
}

std::string http_date(long long ms) {
  return utc_format(ms, "%a, %d %b %Y %H:%M:%S GMT");
}

/// Every tus request but OPTIONS says which protocol version it speaks.
void require_tus(Request const& req) {
  const auto v = req.header("Tus-Resumable");
  if (!v || *v != tus_version)
    throw ApiError(ErrorCode::precondition_failed,
                   "This server speaks tus 1.0.0: send Tus-Resumable: 1.0.0.");
}

std::int64_t header_number(Request const& req, std::string_view name) {
  const auto v = req.header(name);
  if (!v) throw ApiError(core::Error::validation(std::string(name), "is required"));
  std::int64_t n = -1;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 0)
    throw ApiError(core::Error::validation(std::string(name), "must be a non-negative integer"));
  return n;
}

/// "<host>-<pid>-<random>": one request's claim on an upload.
std::string new_holder() {
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + hex;
}

/// The lease holder when it is a process of this host that is gone (a kill -9 mid-PATCH): its
/// lease is free at once instead of after its expiry. Empty otherwise.
std::string dead_holder(std::optional<std::string> const& holder) {
  if (!holder) return {};
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string mine = std::string(host) + "-";
  if (!holder->starts_with(mine)) return {};
  const auto dash = holder->find('-', mine.size());
  const std::string pid_text = holder->substr(mine.size(), dash - mine.size());
  int pid = 0;
  std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (pid <= 0 || pid == ::getpid()) return {};
  return ::kill(pid, 0) != 0 && errno == ESRCH ? *holder : std::string();
}

void tus_headers(Response& res, UploadRow const& u) {
  res.headers.set("Tus-Resumable", std::string(tus_version));
  res.headers.set("Upload-Offset", std::to_string(u.offset));
  res.headers.set("Upload-Expires", http_date(u.expires_at));
  if (u.file_id) res.headers.set("BookSpace-File-Id", *u.file_id);
}

core::Awaitable<UploadRow> owned_upload(Service& svc, std::string id, std::string user) {
  auto row = co_await svc.db().run([&](soci::session& sql) { return find_upload(sql, id); });
  if (!row || row->owner_id != user) throw no_such_upload();
  if (row->expires_at < svc.clock().now_ms()) throw ApiError(ErrorCode::not_found, "The upload has expired.");
  co_return *row;
}

/// All bytes are there: the File is made (once) and the upload records it.
core::Awaitable<UploadRow> complete(Service& svc, UploadRow u) {
  if (u.document_id) co_await svc.check_attach(*u.document_id, u.owner_id);  // rights may have changed
  const std::string id = u.id;
  const auto content = co_await core::run_in(svc.io(), [&](std::size_t) {
    // A remote store keeps the bytes where they are; the local one copies its partial file
    // into a blob (the partial is not named by its hash).
    if (auto adopted = svc.adopt(id, u.store_state, u.content_type)) return *adopted;
    const int fd = svc.blobs().open_partial(id);
    if (fd < 0) throw ApiError(ErrorCode::internal, "The upload's bytes are missing from the store.");
    struct Close {
      int fd;
      ~Close() { ::close(fd); }
    } close{fd};
    return svc.ingest(fd, u.content_type);
  });
  File f = svc.new_file(u.owner_id, content);
  f.name = u.name;
  f.document_id = u.document_id;
  // Two requests may complete at once (a last PATCH and a HEAD): one File, the other rolls back.
  struct Lost {};
  bool lost = false;
  try {
    f = co_await svc.db().run([&](soci::session& sql) {
      return svc.record(
          sql, f,
          [&](core::Tx& tx, File const& made) {
            if (!complete_upload(tx.sql, id, made.id)) throw Lost{};
          },
          id);
    });
  } catch (Lost const&) {
    lost = true;
  }
  if (lost) {
    const long long now = svc.clock().now_ms();
    auto won = co_await svc.db().run([&](soci::session& sql) {
      core::run_transaction(sql, svc.db().dialect(),
                            [&](core::Tx& tx) { note_unreferenced(tx.sql, f.sha256, f.size, now); });
      return find_upload(sql, id);
    });
    if (!won) throw no_such_upload();
    co_return *won;
  }
  co_await core::run_in(svc.io(), [&](std::size_t) { svc.blobs().remove_partial(id); });
  u.file_id = f.id;
  u.offset = u.length;
  co_return u;
}

/// Makes the partial's bytes durable; its state to record with the offset.
core::Awaitable<std::string> sync_partial(Service& svc, BlobStore::Partial& partial) {
  co_return co_await core::run_in(svc.io(), [&partial](std::size_t) {
    partial.sync();
    return partial.state();
  });
}

/// After a PATCH's body (complete or broken off): makes the bytes that arrived durable, records
/// the offset reached with the store's state, and frees the lease. False when the lease was
/// lost; a failure is kept in `failure` unless one is there already.
core::Awaitable<bool> keep_progress(Tus& tus, std::string const& id, std::string const& holder,
                                    std::unique_ptr<BlobStore::Partial> partial, std::int64_t at,
                                    std::int64_t& synced, std::string& state, std::exception_ptr& failure) {
  Service& svc = tus.service;
  try {
    if (partial && synced != at) {
      state = co_await sync_partial(svc, *partial);
      synced = at;
    }
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }
  bool saved = false;
  try {
    partial.reset();
    const long long t = svc.clock().now_ms();
    const std::int64_t offset = synced;
    saved = co_await svc.db().run([&](soci::session& sql) {
      const bool ok = save_upload_offset(sql, id, offset, state, holder, t, t + tus.settings.expiry_s * 1000);
      release_upload_lease(sql, id, holder);
      return ok;
    });
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }
  co_return saved;
}

/// Appends the request body at `offset` under the upload's lease, recording the offset as it
/// goes and whatever arrived when the body ends or breaks off; completes the upload at its length.
core::Awaitable<UploadRow> append(Tus& tus, UploadRow u, std::int64_t offset, http::BodyStream& body) {
  Service& svc = tus.service;
  if (u.file_id) {
    if (offset != u.length) throw ApiError(ErrorCode::conflict, "The upload is complete.");
    // A repeated last PATCH is answered as before; a byte past the length never is.
    const auto declared = body.declared_length();
    if ((declared && *declared > 0) || (!declared && !(co_await body.next()).empty()))
      throw ApiError(ErrorCode::payload_too_large, "The body goes past Upload-Length.");
    co_return u;
  }
  if (offset != u.offset)
    throw ApiError(ErrorCode::conflict, "Upload-Offset is " + std::to_string(offset) + ", the upload is at " +
                                            std::to_string(u.offset) + ".");
  if (const auto declared = body.declared_length();
      declared && static_cast<std::uint64_t>(offset) + *declared > static_cast<std::uint64_t>(u.length))
    throw ApiError(ErrorCode::payload_too_large, "The body goes past Upload-Length.");
  const std::string holder = new_holder(), stale = dead_holder(u.lease_holder);
  const long long now = svc.clock().now_ms();
  const bool leased = co_await svc.db().run([&](soci::session& sql) {
    return take_upload_lease(sql, u.id, offset, holder, now, now + lease_ms, stale);
  });
  if (!leased)
    throw ApiError(ErrorCode::conflict, "Another request is writing this upload; try again shortly.");

  const std::string id = u.id;
  std::exception_ptr failure;
  std::unique_ptr<BlobStore::Partial> partial;
  std::int64_t at = offset;
  // What is durable in the store and may be recorded: the offset with the store's state then.
  std::int64_t synced = offset;
  std::string state = u.store_state;
  try {
    partial = co_await core::run_in(svc.io(), [&](std::size_t) {
      return svc.blobs().append(id, static_cast<std::uint64_t>(offset), u.store_state);
    });
    std::uint64_t unsynced = 0;
    auto last = std::chrono::steady_clock::now();
    for (;;) {
      const std::string_view chunk = co_await body.next();
      if (chunk.empty()) break;
      if (at + static_cast<std::int64_t>(chunk.size()) > u.length)
        throw ApiError(ErrorCode::payload_too_large, "The body goes past Upload-Length.");
      co_await core::run_in(svc.io(), [&](std::size_t) { partial->write(chunk); });
      at += static_cast<std::int64_t>(chunk.size());
      unsynced += chunk.size();
      if (unsynced >= checkpoint_bytes || std::chrono::steady_clock::now() - last >= checkpoint_every) {
        state = co_await sync_partial(svc, *partial);
        synced = at;
        const long long t = svc.clock().now_ms();
        const bool ours = co_await svc.db().run([&](soci::session& sql) {
          return save_upload_offset(sql, id, synced, state, holder, t + lease_ms,
                                    t + tus.settings.expiry_s * 1000);
        });
        if (!ours) throw ApiError(ErrorCode::conflict, "The upload was terminated or taken over.");
        unsynced = 0;
        last = std::chrono::steady_clock::now();
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  // Keep what arrived, even from a body that broke off: the client resumes from there.
  const bool saved = co_await keep_progress(tus, id, holder, std::move(partial), at, synced, state, failure);
  if (failure) std::rethrow_exception(failure);
  if (!saved) throw ApiError(ErrorCode::conflict, "The upload was terminated or taken over.");
  u.offset = synced;
  u.store_state = state;
  u.expires_at = svc.clock().now_ms() + tus.settings.expiry_s * 1000;
  if (u.offset == u.length) co_return co_await complete(svc, std::move(u));
  co_return u;
}

namespace handle {

core::Awaitable<Response> options(Tus& tus, Request&) {
  Response res = Response::no_content();
  res.headers.set("Tus-Resumable", std::string(tus_version));
  res.headers.set("Tus-Version", std::string(tus_version));
  res.headers.set("Tus-Extension", "creation,creation-with-upload,termination,expiration");
  res.headers.set("Tus-Max-Size", std::to_string(tus.settings.max_bytes));
  co_return res;
}

core::Awaitable<Response> create(Tus& tus, Request& req) {
  require_tus(req);
  Service& svc = tus.service;
  if (req.header("Upload-Defer-Length"))
    throw ApiError(core::Error::validation("Upload-Defer-Length", "is not supported: send Upload-Length"));
  const std::int64_t length = header_number(req, "Upload-Length");
  if (static_cast<std::uint64_t>(length) > tus.settings.max_bytes)
    throw ApiError(ErrorCode::payload_too_large,
                   "Files may be at most " + std::to_string(tus.settings.max_bytes) + " bytes.");
  UploadRow u;
  u.owner_id = req.ctx.principal.user_id;
  u.metadata = std::string(req.header("Upload-Metadata").value_or(""));
  const auto metadata = parse_upload_metadata(u.metadata);
  if (!metadata) throw ApiError(core::Error::validation("Upload-Metadata", "is not valid tus metadata"));
  u.name = "file";
  for (auto const& [key, value] : *metadata) {
    if (key == "filename") u.name = sanitize_name(std::string_view(value));
    if (key == "document_id" && !value.empty()) u.document_id = value;
    if ((key == "filetype" || key == "content_type") && !value.empty()) u.content_type = value;
  }
  if (u.document_id) co_await svc.check_attach(*u.document_id, u.owner_id);
  u.id = svc.new_file(u.owner_id, {}).id;  // a fresh UUIDv7
  u.length = length;
  u.created_at = svc.clock().now_ms();
  u.expires_at = u.created_at + tus.settings.expiry_s * 1000;
  co_await svc.reserve_upload(u);
  // creation-with-upload: the first bytes may come with the creation. An empty upload is complete
  // at once (a zero-byte File), as no PATCH will ever follow.
  if (auto ct = req.header("Content-Type"); ct && ct->starts_with(offset_octets)) {
    u = co_await append(tus, std::move(u), 0, *req.body_stream);
  } else if (length == 0) {
    http::BufferedBodyStream nothing("");
    u = co_await append(tus, std::move(u), 0, nothing);
  }
  Response res{201, {}, {}};
  res.headers.set("Location", "/api/v1/uploads/" + u.id);
  tus_headers(res, u);
  co_return res;
}

core::Awaitable<Response> status(Tus& tus, Request& req) {
  require_tus(req);
  auto u = co_await owned_upload(tus.service, std::string(req.param("id")), req.ctx.principal.user_id);
  // All bytes there but no File yet (the server stopped while making it): make it now, since a
  // client that sees the full offset will not send another PATCH.
  if (!u.file_id && u.offset == u.length) u = co_await complete(tus.service, std::move(u));
  Response res{200, {}, {}};
  tus_headers(res, u);
  res.headers.set("Upload-Length", std::to_string(u.length));
  if (!u.metadata.empty()) res.headers.set("Upload-Metadata", u.metadata);
  res.headers.set("Cache-Control", "no-store");
  co_return res;
}

core::Awaitable<Response> patch(Tus& tus, Request& req) {
  require_tus(req);
  const auto ct = req.header("Content-Type");
  if (!ct || !ct->starts_with(offset_octets))
    throw ApiError(ErrorCode::unsupported_media_type, "A PATCH body is application/offset+octet-stream.");
  const std::int64_t offset = header_number(req, "Upload-Offset");
  auto u = co_await owned_upload(tus.service, std::string(req.param("id")), req.ctx.principal.user_id);
  u = co_await append(tus, std::move(u), offset, *req.body_stream);
  Response res = Response::no_content();
  tus_headers(res, u);
  co_return res;
}

core::Awaitable<Response> terminate(Tus& tus, Request& req) {
  require_tus(req);
  Service& svc = tus.service;
  auto u = co_await owned_upload(svc, std::string(req.param("id")), req.ctx.principal.user_id);
  co_await svc.db().transaction([&](core::Tx& tx) { delete_upload(tx.sql, u.id); });
  co_await core::run_in(svc.io(), [&](std::size_t) { svc.blobs().remove_partial(u.id); });
  Response res = Response::no_content();
  res.headers.set("Tus-Resumable", std::string(tus_version));
  co_return res;
}

}  // namespace handle

}  // namespace

namespace {

namespace oa = http::openapi;

/// The OpenAPI operations of the tus routes: the headers each answer carries, its statuses.
struct TusDocs {
  json::object discovery, create, status, patch, terminate;
};

TusDocs tus_docs() {
  const auto version = oa::required(oa::param("Tus-Resumable", "header", oa::string(), "1.0.0 (else 412)."));
  const auto id = oa::param("id", "path", oa::string(), "The upload's id.");
  const json::object bytes{{"type", "string"}, {"format", "binary"}};
  auto body = [&](bool required) {
    return json::object{{"required", required},
                        {"content", {{std::string(offset_octets), {{"schema", bytes}}}}}};
  };
  // Every answer of a tus route says the version; the upload's state where there is one.
  auto state = [](std::string_view description) {
    return oa::with_headers(oa::empty_response(description),
                            {"Tus-Resumable", "Upload-Offset", "Upload-Expires", "BookSpace-File-Id"});
  };
  TusDocs d;
  d.discovery = oa::operation(
      "tus discovery: Tus-Version, Tus-Extension, Tus-Max-Size.",
      {{"204", oa::with_headers(oa::empty_response("The server's tus support."),
                                {"Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size"})}});
  const auto upload_length = oa::required(
      oa::param("Upload-Length", "header", oa::integer(), "The file's size in bytes (0: done at once)."));
  d.create = oa::with_params(
      oa::with_problems(
          oa::operation("Start a resumable upload (tus creation, creation-with-upload: the first bytes may "
                        "come with it). Upload-Length past files.max_file_bytes → 413; past your quota with "
                        "the other unfinished uploads → 507; no or another Tus-Resumable → 412.",
                        {{"201", oa::with_headers(state("`Location` names the upload."), {"Location"})}}),
          {"412", "415", "507"}),
      {version, upload_length,
       oa::param("Upload-Metadata", "header", oa::string(),
                 "`filename`, `document_id`, `filetype`: base64 values; a key may have none.")});
  d.create["requestBody"] = body(false);
  d.status = oa::with_params(
      oa::with_problems(
          oa::operation("Where a resumable upload stands.",
                        {{"200", oa::with_headers(state("Upload-Offset, Upload-Length, "
                                                        "Upload-Metadata; BookSpace-File-Id once "
                                                        "complete."),
                                                  {"Upload-Length", "Upload-Metadata", "Cache-Control"})}}),
          {"412"}),
      {id, version});
  const auto offset =
      oa::required(oa::param("Upload-Offset", "header", oa::integer(), "Where these bytes start."));
  d.patch = oa::with_params(
      oa::with_problems(
          oa::operation("Send bytes of a resumable upload, from Upload-Offset. Another offset than the "
                        "upload's, or another request writing it → 409; bytes past Upload-Length → 413; a "
                        "body of another type → 415.",
                        {{"204", state("The new Upload-Offset; BookSpace-File-Id once complete.")}}),
          {"409", "412", "415"}),
      {id, version, offset});
  d.patch["requestBody"] = body(true);
  d.terminate = oa::with_params(
      oa::with_problems(
          oa::operation("Drop a resumable upload (tus termination).",
                        {{"204", oa::with_headers(oa::empty_response("Gone."), {"Tus-Resumable"})}}),
          {"412"}),
      {id, version});
  return d;
}

}  // namespace

void add_tus_routes(http::Router& router, Service& service, TusSettings settings) {
  auto tus = std::make_shared<Tus>(Tus{service, settings});
  auto route = [tus](core::Awaitable<Response> (*fn)(Tus&, Request&)) {
    return [tus, fn](Request& req) { return fn(*tus, req); };
  };
  auto tus_options = [](http::RouteOptions options) {
    options.cors_request_headers = {"Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset",
                                    "Upload-Defer-Length"};
    options.cors_expose_headers = {"Tus-Resumable", "Tus-Version",      "Tus-Extension",   "Tus-Max-Size",
                                   "Upload-Offset", "Upload-Length",    "Upload-Metadata", "Upload-Expires",
                                   "Location",      "BookSpace-File-Id"};
    return options;
  };
  http::RouteOptions streamed;
  streamed.json_body = false;
  streamed.stream_body = true;
  streamed.body_limit = settings.max_bytes;
  http::RouteOptions discovery;
  discovery.auth = http::Auth::none;
  auto docs = tus_docs();
  router.add(Method::options, "/api/v1/uploads", route(&handle::options),
             oa::documented(std::move(docs.discovery), std::move(discovery)));
  router.add(Method::post, "/api/v1/uploads", route(&handle::create),
             tus_options(oa::documented(std::move(docs.create), streamed)));
  router.add(Method::head, "/api/v1/uploads/{id}", route(&handle::status),
             tus_options(oa::documented(std::move(docs.status))));
  router.add(Method::patch, "/api/v1/uploads/{id}", route(&handle::patch),
             tus_options(oa::documented(std::move(docs.patch), streamed)));
  router.add(Method::del, "/api/v1/uploads/{id}", route(&handle::terminate),
             tus_options(oa::documented(std::move(docs.terminate))));
}

std::size_t sweep_uploads(soci::session& sql, Service& service, int batch) {
  std::size_t n = 0;
  for (auto const& id : expired_uploads(sql, service.clock().now_ms(), batch)) {
    bool gone = false;
    core::run_transaction(sql, service.db().dialect(),
                          [&](core::Tx& tx) { gone = delete_upload(tx.sql, id); });
    if (gone) {
      service.blobs().remove_partial(id);
      ++n;
    }
  }
  return n;
}

}  // namespace bookspace::files
