#pragma once

// The files module's use cases: access checks, quotas, the blob store and transactions around
// the repository (store.hpp). Transport-free: routes.cpp turns HTTP into these calls.

#include "blob_store.hpp"
#include "store.hpp"

#include "core/async.hpp"

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
class BodyStream;
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
};

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
};

struct Upload {
  std::string user;
  std::optional<std::string> name;          ///< sanitized (from ?name=); else the part's filename
  std::optional<std::string> claimed_type;  ///< the request's Content-Type
  std::optional<std::string> document_id;
  std::optional<std::string> boundary;  ///< multipart/form-data: the file is the part `file`
};

/// A file and a descriptor of its content, for downloads.
struct Content {
  File file;
  int fd = -1;  ///< owned by the caller
};

struct Usage {
  std::string user_id;
  std::int64_t used_bytes = 0;
  std::int64_t quota_bytes = 0;  ///< 0: no limit
};

class Service {
 public:
  explicit Service(ServiceDeps deps) : deps_(deps) {}

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

  /// The user's logical bytes and quota.
  core::Awaitable<Usage> usage(std::string user);
  /// Administrators set a user's quota (0: none; nullopt: back to files.quota_bytes).
  core::Awaitable<Usage> set_quota(bool admin, std::string user, std::optional<std::int64_t> bytes);

  /// The blob GC (scheduler): deletes blobs unreferenced for longer than the grace.
  std::size_t collect_garbage(soci::session& sql, int batch);

 private:
  core::Awaitable<File> readable(std::string id, std::string user);
  std::int64_t quota_for(soci::session& sql, std::string const& user) const;
  core::Awaitable<Content> content_of(File file);
  ServiceDeps deps_;
};

}  // namespace bookspace::files
