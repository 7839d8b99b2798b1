#include "service.hpp"

#include "extract.hpp"
#include "multipart.hpp"
#include "rules.hpp"
#include "sniff.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "http/message.hpp"

#include <bookspace/documents/documents.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/jobs/events.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <soci/soci.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace bookspace::files {

using core::ApiError;
using core::ErrorCode;

namespace {

ApiError no_such_file() {
  return ApiError(ErrorCode::not_found, "No such file.");
}

ApiError over_quota(std::int64_t quota) {
  return ApiError(ErrorCode::quota_exceeded,
                  "The upload would exceed your storage quota of " + std::to_string(quota) + " bytes.");
}

}  // namespace

core::Awaitable<void> Service::check_attach(std::string doc, std::string user) {
  const auto role = co_await deps_.access.role(doc, user);
  if (role == documents::Role::none)
    throw ApiError(core::Error::validation("document_id", "no such document"));
  if (role < documents::Role::editor)
    throw ApiError(ErrorCode::forbidden, "Attaching a file to a document needs editor rights on it.");
}

core::Awaitable<void> Service::check_quota(std::string user, std::uint64_t bytes) {
  const auto [quota, used] = co_await deps_.db.run([&](soci::session& sql) {
    return std::pair{quota_for(sql, user), used_bytes(sql, user) + pending_bytes(sql, user)};
  });
  if (quota > 0 && used + static_cast<std::int64_t>(bytes) > quota) throw over_quota(quota);
}

core::Awaitable<void> Service::reserve_upload(UploadRow const& upload) {
  std::int64_t refused_at = 0;
  co_await deps_.db.transaction([&](core::Tx& tx) {
    lock_owner_quota(tx, upload.owner_id);
    const std::int64_t quota = quota_for(tx.sql, upload.owner_id);
    if (quota > 0 &&
        used_bytes(tx.sql, upload.owner_id) + pending_bytes(tx.sql, upload.owner_id) + upload.length >
            quota) {
      refused_at = quota;
      return;
    }
    insert_upload(tx.sql, upload);
  });
  if (refused_at > 0) throw over_quota(refused_at);
}

namespace {

/// The body's next chunk into `chunk` (a coroutine of its own, to be awaited with others).
core::Awaitable<void> read_next(http::BodyStream& body, std::string_view& chunk) {
  chunk = co_await body.next();
}

}  // namespace

core::Awaitable<File> Service::upload(Upload up, http::BodyStream& body) {
  if (up.document_id) co_await check_attach(*up.document_id, up.user);
  const auto [quota, used] = co_await deps_.db.run([&](soci::session& sql) {
    return std::pair{quota_for(sql, up.user), used_bytes(sql, up.user) + pending_bytes(sql, up.user)};
  });
  if (quota > 0) {
    const auto declared = body.declared_length();
    if (declared && used + static_cast<std::int64_t>(*declared) > quota) throw over_quota(quota);
  }
  std::unique_ptr<MultipartFile> multipart;
  http::BodyStream* source = &body;
  if (up.boundary) {
    multipart = std::make_unique<MultipartFile>(body, *up.boundary);
    source = multipart.get();
  }
  auto writer = co_await core::run_in(deps_.io, [&](std::size_t) { return deps_.blobs.create(); });
  std::optional<std::string> type;
  // Pipelined: while one chunk is hashed and written (at the same time, on two threads of the
  // disk pool), the next is read from the socket (into the body's own buffer; the chunk being
  // written is a copy).
  std::string pending;
  std::string_view chunk = co_await source->next();
  if (!chunk.empty()) {  // the first bytes decide the type, before anything is stored
    auto sniffed = co_await core::run_in(deps_.io, [&](std::size_t) { return sniff_type(chunk); });
    if (multipart) up.claimed_type = multipart->parser().content_type;  // the part's own type
    type = allowed_type(sniffed, up.claimed_type);
  }
  while (!chunk.empty()) {
    pending.assign(chunk);
    if (quota > 0 && used + static_cast<std::int64_t>(writer->written() + pending.size()) > quota)
      throw over_quota(quota);
    // The disk's failures (a full disk above all) are kept rather than thrown inside the group:
    // a throw there would cancel the read, and the cancellation could be what reaches the client.
    std::exception_ptr digest_failed, store_failed;
    auto kept = [](std::exception_ptr& failed, auto work) {
      try {
        work();
      } catch (...) {
        failed = std::current_exception();
      }
    };
    co_await core::all_of(
        read_next(*source, chunk),
        core::run_in(deps_.io, [&](std::size_t) { kept(digest_failed, [&] { writer->digest(pending); }); }),
        core::run_in(deps_.io, [&](std::size_t) { kept(store_failed, [&] { writer->store(pending); }); }));
    if (store_failed) std::rethrow_exception(store_failed);
    if (digest_failed) std::rethrow_exception(digest_failed);
  }
  if (multipart) {
    if (!up.name && multipart->parser().filename) up.name = sanitize_name(*multipart->parser().filename);
    if (!type) up.claimed_type = multipart->parser().content_type;
  }
  if (!type) type = allowed_type("application/octet-stream", up.claimed_type);  // empty: nothing to sniff
  const auto stored = co_await core::run_in(deps_.io, [&](std::size_t) { return writer->commit(); });
  File f = new_file(up.user, {stored, std::move(*type)});
  f.name = up.name.value_or("file");
  f.document_id = up.document_id;
  co_return co_await deps_.db.run([&](soci::session& sql) { return record(sql, std::move(f)); });
}

std::string Service::allowed_type(std::string const& sniffed,
                                  std::optional<std::string> const& claimed) const {
  auto type = decide_type(sniffed, claimed);
  if (!type_allowed(type, deps_.settings.allowed_types))
    throw ApiError(ErrorCode::unsupported_media_type, "Files of type " + type + " are not accepted here.");
  return type;
}

Ingested Service::ingest(int fd, std::optional<std::string> const& claimed_type) {
  auto writer = deps_.blobs.create();
  std::string buffer(1 << 20, '\0');
  std::optional<std::string> type;
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) break;
    const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
    if (!type) type = allowed_type(sniff_type(chunk), claimed_type);
    writer->write(chunk);
    at += n;
  }
  if (!type) type = allowed_type("application/octet-stream", claimed_type);
  return {writer->commit(), std::move(*type)};
}

File Service::new_file(std::string owner, Ingested const& content) const {
  File f;
  f.id = deps_.ids.uuid_v7();
  f.name = "file";
  f.content_type = content.content_type;
  f.size = static_cast<std::int64_t>(content.stored.size);
  f.sha256 = content.stored.sha256;
  f.owner_id = std::move(owner);
  f.created_at = deps_.clock.now_ms();
  return f;
}

File Service::record(soci::session& sql, File f, std::function<void(core::Tx&, File const&)> const& also,
                     std::string const& completing_upload) {
  std::int64_t refused_at = 0;  // the quota, when the file does not fit
  core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
    refused_at = 0;
    lock_owner_quota(tx, f.owner_id);
    const std::int64_t quota = quota_for(tx.sql, f.owner_id);
    if (quota > 0 &&
        used_bytes(tx.sql, f.owner_id) + pending_bytes(tx.sql, f.owner_id, completing_upload) + f.size >
            quota) {
      refused_at = quota;  // a concurrent upload took the room: nothing is written
      return;
    }
    reference_blob(tx.sql, f.sha256, f.size, f.created_at);
    insert_file(tx.sql, f);
    core::publish(
        deps_.events, tx, f.id,
        Uploaded{f.id, f.name, f.content_type, f.sha256, f.owner_id, f.size, f.document_id, f.created_at});
    if (deps_.queue && extractable(f.content_type)) {
      deps_.queue->enqueue(tx, {std::string(extract_job_type),
                                {{"file_id", f.id}},
                                f.owner_id,
                                std::nullopt,
                                std::nullopt,
                                std::string(extract_job_type) + ":" + f.id});
    }
    if (also) also(tx, f);
  });
  if (refused_at > 0) {
    // The stored content is known to the GC, which removes it unless a file takes it meanwhile.
    const long long now = deps_.clock.now_ms();
    core::run_transaction(sql, deps_.db.dialect(),
                          [&](core::Tx& tx) { note_unreferenced(tx.sql, f.sha256, f.size, now); });
    throw over_quota(refused_at);
  }
  return f;
}

core::Awaitable<File> Service::readable(std::string id, std::string user) {
  auto file = co_await deps_.db.run([&](soci::session& sql) { return find_file(sql, id); });
  if (!file) throw no_such_file();
  if (file->owner_id == user) co_return *file;
  if (file->document_id) {
    const std::string doc = *file->document_id;
    if (co_await deps_.access.role(doc, user) != documents::Role::none) co_return *file;
  }
  throw no_such_file();
}

core::Awaitable<File> Service::get(std::string id, std::string user) {
  co_return co_await readable(std::move(id), std::move(user));
}

int Service::open_blob(std::string const& sha256) {
  // A remote store's downloads stream (stream()); open() would copy the whole object first.
  if (deps_.blobs.streams()) return -1;
  const int fd = deps_.blobs.open(sha256);
  if (fd < 0) throw ApiError(ErrorCode::internal, "The file's content is missing from the store.");
  return fd;
}

void Service::remember(File const& file, int fd) {
  if (fd >= 0) cache_.put(file, fd);
}

core::Awaitable<Content> Service::content_of(File file) {
  const int fd = co_await core::run_in(deps_.io, [&](std::size_t) { return open_blob(file.sha256); });
  co_return Content{std::move(file), fd};
}

namespace {

/// A download from a remote store: the fetch starts at the first read (a HEAD starts none) and
/// runs ahead of the client by the reader's buffer at most.
class RemoteBody final : public http::BodySource {
 public:
  RemoteBody(core::WorkerPool& io, BlobStore& blobs, std::string sha256, std::uint64_t first,
             std::uint64_t length)
      : io_(io), blobs_(blobs), sha256_(std::move(sha256)), first_(first), length_(length) {}
  std::uint64_t length() const override { return length_; }
  core::Awaitable<std::string_view> next() override {
    if (!reader_) {
      reader_ =
          co_await core::run_in(io_, [this](std::size_t) { return blobs_.read(sha256_, first_, length_); });
      if (!reader_) throw ApiError(ErrorCode::internal, "The file's content is missing from the store.");
    }
    chunk_ = reader_->take();
    if (chunk_.empty()) chunk_ = co_await core::run_in(io_, [this](std::size_t) { return reader_->wait(); });
    co_return std::string_view(chunk_);
  }

 private:
  core::WorkerPool& io_;
  BlobStore& blobs_;
  std::string sha256_;
  std::uint64_t first_, length_;
  std::unique_ptr<BlobStore::Reader> reader_;
  std::string chunk_;
};

}  // namespace

std::shared_ptr<http::BodySource> Service::stream(File const& file, std::uint64_t first,
                                                  std::uint64_t length) {
  return std::make_shared<RemoteBody>(deps_.io, deps_.blobs, file.sha256, first, length);
}

core::Awaitable<std::optional<std::string>> Service::presigned(File file, std::string disposition) {
  if (!deps_.blobs.presigns()) co_return std::nullopt;  // no hop for the usual case
  co_return co_await core::run_in(deps_.io, [&](std::size_t) {
    return deps_.blobs.presigned(file.sha256, presign_seconds, file.content_type, disposition);
  });
}

std::optional<Ingested> Service::adopt(std::string const& upload_id, std::string const& state,
                                       std::optional<std::string> const& claimed_type) {
  std::string sniffed = "application/octet-stream";
  auto stored = deps_.blobs.adopt_partial(upload_id, state, [&](std::string_view head) {
    if (!head.empty()) sniffed = sniff_type(head);
  });
  if (!stored) return std::nullopt;
  return Ingested{*stored, allowed_type(sniffed, claimed_type)};
}

core::Awaitable<Content> Service::open(std::string id, std::string user) {
  // The owner's download (the common case) takes no hop when cached, else one: the row and the
  // descriptor on the same database worker (which may block). Readers of a document go through
  // Access every time (their access may end at any moment).
  if (auto hit = cache_.find(id)) {
    if (hit->first.owner_id == user) co_return Content{std::move(hit->first), hit->second};
    ::close(hit->second);
  }
  auto [file, fd] = co_await deps_.db.run([&](soci::session& sql) {
    auto f = find_file(sql, id);
    const int owned_fd = f && f->owner_id == user ? open_blob(f->sha256) : -1;
    return std::pair{std::move(f), owned_fd};
  });
  if (!file) throw no_such_file();
  if (file->owner_id == user) {
    remember(*file, fd);
    co_return Content{std::move(*file), fd};
  }
  auto readable_file = co_await readable(std::move(id), std::move(user));
  co_return co_await content_of(std::move(readable_file));
}

core::Awaitable<Link> Service::link(std::string id, std::string user, std::int64_t seconds) {
  auto file = co_await readable(id, std::move(user));
  const std::int64_t expires = deps_.clock.now_ms() / 1000 + seconds;
  const std::string signature = link_signature(deps_.settings.link_key, file.id, expires);
  co_return Link{
      "/api/v1/files/" + file.id + "/content?expires=" + std::to_string(expires) + "&signature=" + signature,
      expires * 1000};
}

core::Awaitable<Content> Service::open_link(std::string id, std::string expires, std::string signature) {
  const auto verdict =
      check_link(deps_.settings.link_key, id, expires, signature, deps_.clock.now_ms() / 1000);
  if (verdict == LinkCheck::invalid) throw no_such_file();
  if (verdict == LinkCheck::expired) throw ApiError(ErrorCode::link_expired, "This link has expired.");
  if (auto hit = cache_.find(id)) co_return Content{std::move(hit->first), hit->second};
  auto [file, fd] = co_await deps_.db.run([&](soci::session& sql) {
    auto f = find_file(sql, id);
    const int blob_fd = f ? open_blob(f->sha256) : -1;
    return std::pair{std::move(f), blob_fd};
  });
  if (!file) throw no_such_file();
  remember(*file, fd);
  co_return Content{std::move(*file), fd};
}

core::Awaitable<std::vector<File>> Service::list(std::string user, std::optional<std::string> document_id,
                                                 std::string before_id, int n) {
  std::optional<std::string> owner;
  if (document_id) {
    const std::string doc = *document_id;
    if (co_await deps_.access.role(doc, user) == documents::Role::none)
      throw ApiError(core::Error::validation("document_id", "no such document"));
  } else {
    owner = user;
  }
  co_return co_await deps_.db.run(
      [&](soci::session& sql) { return list_files(sql, owner, document_id, before_id, n); });
}

core::Awaitable<void> Service::remove(std::string id, std::string user) {
  auto file = co_await readable(id, user);
  if (file.owner_id != user) throw ApiError(ErrorCode::forbidden, "Only the file's owner may delete it.");
  co_await deps_.db.transaction([&](core::Tx& tx) {
    if (!delete_file(tx.sql, id)) throw no_such_file();
    release_blob(tx.sql, file.sha256, deps_.clock.now_ms());
    core::publish(deps_.events, tx, id, Deleted{id, file.owner_id, file.document_id});
  });
  cache_.forget(id);
}

bool Service::request_text(core::Tx& tx, std::string const& file_id, std::string const& content_type,
                           std::string const& owner_id, std::string const& key) {
  if (!deps_.queue || !extractable(content_type)) return false;
  deps_.queue->enqueue(tx, {std::string(extract_job_type),
                            {{"file_id", file_id}},
                            owner_id,
                            std::nullopt,
                            std::nullopt,
                            std::string(extract_job_type) + ":" + file_id + ":" + key});
  return true;
}

std::int64_t Service::quota_for(soci::session& sql, std::string const& user) const {
  return quota_of(sql, user).value_or(deps_.settings.quota_bytes);
}

core::Awaitable<Usage> Service::usage(std::string user) {
  co_return co_await deps_.db.run([&](soci::session& sql) {
    return Usage{user, used_bytes(sql, user), pending_bytes(sql, user), quota_for(sql, user)};
  });
}

core::Awaitable<Usage> Service::set_quota(bool admin, std::string user, std::optional<std::int64_t> bytes) {
  if (!admin) throw ApiError(ErrorCode::forbidden, "Only administrators set quotas.");
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    if (bytes) {
      files::set_quota(tx.sql, user, *bytes, deps_.clock.now_ms());
    } else {
      clear_quota(tx.sql, user);
    }
    return Usage{user, used_bytes(tx.sql, user), pending_bytes(tx.sql, user), quota_for(tx.sql, user)};
  });
}

void Service::follow_documents(core::Tx& tx, core::Event const& e) {
  auto purged = core::event_as<documents::Purged>(e);
  if (!purged) return;
  for (auto const& f : files_of_document(tx.sql, purged->id)) delete_in(tx, f);
}

void Service::follow_cancelled_jobs(core::Tx& tx, core::Event const& e) {
  auto cancelled = core::event_as<jobs::Cancelled>(e);
  if (!cancelled) return;
  const auto file_id = export_of(tx.sql, cancelled->id);
  if (!file_id) return;
  delete_export(tx.sql, cancelled->id);  // a retry of the job makes a new one
  if (auto f = find_file(tx.sql, *file_id)) delete_in(tx, *f);
}

void Service::delete_in(core::Tx& tx, File const& f) {
  if (!delete_file(tx.sql, f.id)) return;
  cache_.forget(f.id);
  release_blob(tx.sql, f.sha256, deps_.clock.now_ms());
  core::publish(deps_.events, tx, f.id, Deleted{f.id, f.owner_id, f.document_id});
}

std::size_t Service::collect_garbage(soci::session& sql, int batch) {
  const long long cutoff = deps_.clock.now_ms() - deps_.settings.blob_grace_s * 1000;
  std::size_t removed = 0;
  for (auto const& sha : unreferenced_blobs(sql, cutoff, batch)) {
    bool forgotten = false;
    core::run_transaction(sql, deps_.db.dialect(),
                          [&](core::Tx& tx) { forgotten = forget_blob(tx.sql, sha); });
    if (forgotten) cache_.forget_blob(sha);
    if (forgotten && deps_.blobs.remove(sha, deps_.settings.blob_grace_s)) ++removed;
  }
  return removed;
}

std::size_t Service::sweep_strays(soci::session& sql, std::function<bool()> const& stopping) {
  const std::int64_t grace = deps_.settings.blob_grace_s;
  std::size_t removed = 0;
  deps_.blobs.each_stored(grace, [&](std::string const& name, bool partial) {
    if (stopping()) return false;
    if (partial) {
      if (!upload_known(sql, name)) {
        deps_.blobs.remove_partial(name);
        ++removed;
      }
    } else if (!blob_known(sql, name) && deps_.blobs.remove(name, grace)) {
      ++removed;
    }
    return true;
  });
  return removed;
}

}  // namespace bookspace::files
