#pragma once

// The files module's use cases: access checks, quotas, the blob store and transactions around
// the repository (store.hpp). Transport-free: routes.cpp turns HTTP into these calls.

#include "blob_store.hpp"
#include "content_cache.hpp"
#include "store.hpp"

#include "core/async.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
struct Event;
class Tx;
class EventLog;
class IdGenerator;
class WorkerPool;
}  // namespace bookspace::core
namespace bookspace::documents {
class Access;
}
namespace bookspace::http {
class BodySource;
class BodyStream;
}  // namespace bookspace::http
namespace bookspace::jobs {
class Queue;
}
namespace soci {
class session;
}

namespace bookspace::files {

struct Settings {
  std::int64_t quota_bytes = 0;  ///< per user; 0: no quota
  std::int64_t blob_grace_s = 3600;
  std::string link_key;                    ///< raw HMAC key of signed links
  std::vector<std::string> allowed_types;  ///< empty: any type
  std::int64_t cache_ms = 1000;            ///< ContentCache time to live; 0: off
};

/// The job type that extracts a file's text (extract_job.cpp), enqueued with every upload of an
/// extractable type when the jobs module runs.
inline constexpr std::string_view extract_job_type = "files.extract_text";

struct Link {
  std::string url;  ///< path and query, relative to the server
  long long expires_at = 0;
};

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  core::IdGenerator& ids;
  core::WorkerPool& io;  ///< disk work: writes, fsync, opens
  BlobStore& blobs;
  documents::Access& access;  ///< who may read a document a file is attached to
  Settings settings;
  jobs::Queue* queue = nullptr;  ///< null without the jobs module: no text extraction
};

struct Upload {
  std::string user;
  std::optional<std::string> name;          ///< sanitized (from ?name=); else the part's filename
  std::optional<std::string> claimed_type;  ///< the request's Content-Type
  std::optional<std::string> document_id;
  std::optional<std::string> boundary;  ///< multipart/form-data: the file is the part `file`
};

/// Content copied into the blob store from a local file (ingest), and its decided type.
struct Ingested {
  BlobStore::Stored stored;
  std::string content_type;
};

/// A file and a descriptor of its content, for downloads.
struct Content {
  File file;
  int fd = -1;  ///< owned by the caller; -1 with a remote store: stream() the content
};

/// How long a presigned download URL works (files.s3.presign_downloads).
inline constexpr std::int64_t presign_seconds = 300;

struct Usage {
  std::string user_id;
  std::int64_t used_bytes = 0;
  std::int64_t pending_bytes = 0;  ///< reserved by unfinished resumable uploads
  std::int64_t quota_bytes = 0;    ///< 0: no limit
};

class Service {
 public:
  explicit Service(ServiceDeps const& deps)
      : deps_(deps), cache_(std::chrono::milliseconds(deps.settings.cache_ms), 4096) {}

  /// Streams `body` into the blob store and records the file. A document to attach to needs
  /// editor rights (else not_found / forbidden); past the owner's quota → quota_exceeded, with
  /// nothing left behind.
  core::Awaitable<File> upload(Upload upload, http::BodyStream& body);
  /// Readable by its owner and, when attached, by the document's readers; else not_found.
  core::Awaitable<File> get(std::string id, std::string user);
  core::Awaitable<Content> open(std::string id, std::string user);
  /// A signed link to the content, valid `seconds` (1 s – 7 days), for whoever may read it.
  core::Awaitable<Link> link(std::string id, std::string user, std::int64_t seconds);
  /// The content through a signed link: a link that does not verify (tampered, or its file is
  /// gone) → not_found, an expired one → link_expired (410).
  core::Awaitable<Content> open_link(std::string id, std::string expires, std::string signature);
  /// Own files, or (with `document_id`, which the user must be able to read) a document's.
  core::Awaitable<std::vector<File>> list(std::string user, std::optional<std::string> document_id,
                                          std::string before_id, int n);
  /// Owner only (a reader of its document gets forbidden).
  core::Awaitable<void> remove(std::string id, std::string user);

  /// documents.purged.v1 (a durable consumer): the document's files go with it, in the
  /// consumer's transaction.
  void follow_documents(core::Tx& tx, core::Event const& event);
  /// jobs.cancelled.v1 (a durable consumer): an export whose cancel came while it was storing
  /// its zip leaves nothing behind — the zip File is deleted, its room in the quota given back.
  void follow_cancelled_jobs(core::Tx& tx, core::Event const& event);

  /// The user's logical bytes and quota.
  core::Awaitable<Usage> usage(std::string user);
  /// Administrators set a user's quota (0: none; nullopt: back to files.quota_bytes).
  core::Awaitable<Usage> set_quota(bool admin, std::string user, std::optional<std::int64_t> bytes);

  /// The content of a file whose Content has no descriptor (a remote store), [first, first +
  /// length), fetched as the client reads it.
  std::shared_ptr<http::BodySource> stream(File const& file, std::uint64_t first, std::uint64_t length);
  /// A URL of the store's own that serves the file for a few minutes (files.s3.presign_downloads);
  /// nullopt when downloads go through this server.
  core::Awaitable<std::optional<std::string>> presigned(File file, std::string disposition);
  /// Blocking: a resumable upload's bytes become stored content in place (a remote store), typed
  /// as an upload is; nullopt when the store cannot (read its partial file and ingest() it).
  std::optional<Ingested> adopt(std::string const& upload_id, std::string const& state,
                                std::optional<std::string> const& claimed_type);
  /// Blocking (a disk pool or a job thread): copies the content behind `fd` from its start into
  /// the blob store, deciding its type as an upload does (415 outside files.allowed_types).
  Ingested ingest(int fd, std::optional<std::string> const& claimed_type);
  /// Blocking: records a file whose content is stored, in one transaction on `sql` — the owner's
  /// quota (quota_exceeded, the content then left to the GC), the blob reference, the row,
  /// files.uploaded.v1, the text extraction job — plus `also(tx)`.
  /// `completing_upload`: the resumable upload this file completes, whose reservation it takes over.
  File record(soci::session& sql, File f, std::function<void(core::Tx&, File const&)> const& also = {},
              std::string const& completing_upload = {});
  /// Records a new resumable upload, its Upload-Length reserved against the owner's quota
  /// (quota_exceeded when it would not fit beside the files and the other reservations).
  core::Awaitable<void> reserve_upload(UploadRow const& upload);
  /// A new file's row for stored content (id, time); the caller sets name and document.
  File new_file(std::string owner, Ingested const& content) const;
  core::Database& db() { return deps_.db; }
  core::WorkerPool& io() { return deps_.io; }
  BlobStore& blobs() { return deps_.blobs; }
  core::Clock const& clock() const { return deps_.clock; }
  /// The caller's role on a document they attach to: editor or better, else the error upload gives.
  core::Awaitable<void> check_attach(std::string document_id, std::string user);
  /// quota_exceeded when `bytes` more would not fit the user's quota (beside what is reserved).
  core::Awaitable<void> check_quota(std::string user, std::uint64_t bytes);

  /// Enqueues the file's text extraction again (unique per `key`); false without jobs or text.
  bool request_text(core::Tx& tx, std::string const& file_id, std::string const& content_type,
                    std::string const& owner_id, std::string const& key);

  /// Drops a file from the download cache (files.deleted.v1 seen from any instance).
  void forget_cached(std::string const& id) { cache_.forget(id); }

  /// The blob GC (scheduler): deletes blobs unreferenced for longer than the grace.
  std::size_t collect_garbage(soci::session& sql, int batch);
  /// The stray sweep (scheduler): deletes stored blobs and partial uploads that no row names
  /// and that are older than the grace (content stored by a process killed before it recorded
  /// it). Returns how many; stops early when `stopping()` says so.
  std::size_t sweep_strays(soci::session& sql, std::function<bool()> const& stopping);

 private:
  /// Deletes the file in `tx`: its row, its blob reference, files.deleted.v1.
  void delete_in(core::Tx& tx, File const& f);
  core::Awaitable<File> readable(std::string id, std::string user);
  std::int64_t quota_for(soci::session& sql, std::string const& user) const;
  core::Awaitable<Content> content_of(File file);
  /// Blocking: a descriptor of the blob (internal error when missing); -1 for a remote store.
  int open_blob(std::string const& sha256);
  void remember(File const& file, int fd);
  /// The type decided from the sniffed and the claimed one; 415 outside files.allowed_types.
  std::string allowed_type(std::string const& sniffed, std::optional<std::string> const& claimed) const;
  ServiceDeps deps_;
  ContentCache cache_;
};

}  // namespace bookspace::files
