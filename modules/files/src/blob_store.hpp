#pragma once

// Where file contents live: content-addressed blobs, on local disk (local_blob_store) or in an
// S3 bucket (s3_blob_store, s3_store.cpp). Blocking calls (disk, fsync, S3 requests) — callers
// run them on the module's I/O pool, never on an io thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::core {
class Database;
}

namespace bookspace::files {

class BlobStore {
 public:
  struct Stored {
    std::string sha256;  ///< lower-case hex
    std::uint64_t size = 0;
  };
  /// One upload in progress: bytes go to a temporary file while their SHA-256 is computed.
  class Writer {
   public:
    virtual ~Writer() = default;  ///< an uncommitted writer removes its temporary file
    /// Appends `bytes`: digest() and store(), which callers may also run at the same time on two
    /// threads (each call of one after the previous call of the same one, in order).
    void write(std::string_view bytes) {
      digest(bytes);
      store(bytes);
    }
    virtual void digest(std::string_view bytes) = 0;  ///< into the SHA-256
    virtual void store(std::string_view bytes) = 0;   ///< into the temporary file
    virtual std::uint64_t written() const = 0;
    /// Makes the content durable under its hash (fsync, rename, fsync of the directory); content
    /// already stored is kept as it is and the temporary file dropped.
    virtual Stored commit() = 0;
  };

  /// The bytes of a resumable (tus) upload received so far, kept under the upload's id until it
  /// completes; they survive restarts.
  class Partial {
   public:
    virtual ~Partial() = default;
    virtual void write(std::string_view bytes) = 0;
    /// Makes what was written durable (fdatasync); returns the offset now reached.
    virtual std::uint64_t sync() = 0;
    /// What the store needs to continue the upload from the synced offset on any instance (S3:
    /// the multipart upload, its parts, the bytes short of a part); saved with the offset and
    /// handed back to append(). Empty for local disk.
    virtual std::string state() const { return {}; }
  };

  /// A download's bytes as they arrive from a remote store, fetched ahead into a bounded buffer
  /// (a client that reads slowly stops the fetch; nothing waits in memory beyond the buffer).
  class Reader {
   public:
    virtual ~Reader() = default;  ///< stops the fetch
    /// Bytes fetched so far without waiting; empty when none are there yet.
    virtual std::string take() = 0;
    /// Blocking: the next bytes; empty once all were read. Throws when the fetch failed.
    virtual std::string wait() = 0;
  };

  virtual ~BlobStore() = default;
  virtual std::unique_ptr<Writer> create() = 0;
  /// Continues the partial upload `id` at `offset`: anything beyond it (bytes of an attempt whose
  /// offset was never recorded) is cut off first. Creates it at offset 0.
  virtual std::unique_ptr<Partial> append(std::string const& id, std::uint64_t offset,
                                          std::string const& state) = 0;
  /// A read-only descriptor of the partial upload (the caller closes it); -1 when missing.
  virtual int open_partial(std::string const& id) const = 0;
  virtual void remove_partial(std::string const& id) = 0;
  /// A fresh path for scratch work (an export being zipped) on the store's filesystem, swept
  /// like an upload's temporary file when its process dies. The caller removes it.
  virtual std::filesystem::path scratch_path(std::string_view suffix) = 0;
  /// A read-only descriptor of the blob (the caller closes it); -1 when it is missing.
  virtual int open(std::string const& sha256) const = 0;
  /// Removes the blob unless it was written within `younger_than_s` seconds (an upload of the
  /// same content may be about to reference it); true when removed.
  virtual bool remove(std::string const& sha256, std::int64_t younger_than_s) = 0;
  /// Removes temporary files (S3: multipart uploads) left by a process that died mid-upload;
  /// returns how many.
  virtual std::size_t sweep_temporary() = 0;

  // --- what only remote stores do (the local store keeps the defaults) ---

  /// Downloads read the content through read() instead of a descriptor from open() (which, for a
  /// remote store, copies the whole object to a scratch file first).
  virtual bool streams() const { return false; }
  /// [first, first + length) of the blob, fetched as it is read. Null: missing.
  virtual std::unique_ptr<Reader> read(std::string const& /*sha256*/, std::uint64_t /*first*/,
                                       std::uint64_t /*length*/) {
    return nullptr;
  }
  /// Downloads are redirected to presigned() URLs (files.s3.presign_downloads).
  virtual bool presigns() const { return false; }
  /// A URL of the store's own that serves the blob for `seconds` without credentials, with these
  /// response headers (Content-Type, Content-Disposition); nullopt unless configured.
  virtual std::optional<std::string> presigned(std::string const& /*sha256*/, std::int64_t /*seconds*/,
                                               std::string const& /*content_type*/,
                                               std::string const& /*disposition*/) {
    return std::nullopt;
  }
  /// Turns the partial upload into stored content without copying it (S3: completes the
  /// multipart upload, then reads it back once for its SHA-256); `head` receives its first bytes
  /// (for the type). nullopt: not supported, read open_partial() instead.
  virtual std::optional<Stored> adopt_partial(std::string const& /*id*/, std::string const& /*state*/,
                                              std::function<void(std::string_view)> const& /*head*/) {
    return std::nullopt;
  }
  /// Whether the store works now: nullopt, or what is wrong (a readiness check's value, e.g.
  /// "unreachable", "forbidden", "no_bucket"). Blocking.
  virtual std::optional<std::string> check() { return std::nullopt; }
  /// Calls `fn` with the hash of every blob, and (`partial` true) the id of every partial
  /// upload, last written more than `older_than_s` seconds ago: the sweep of what no row names
  /// (a kill -9 between storing content and recording it). `fn` returns false to stop early.
  virtual void each_stored(std::int64_t older_than_s,
                           std::function<bool(std::string const& name, bool partial)> const& fn) const = 0;
};

/// Blobs under `root`: `sha256/ab/cd/<hash>`, temporary files in `tmp/` (same filesystem, so the
/// final rename is atomic).
std::unique_ptr<BlobStore> local_blob_store(std::filesystem::path root);

struct S3Config;
/// Blobs in an S3 bucket (s3_store.cpp): objects `blobs/<unique name>` (not the hash: the
/// database maps hashes to objects, files_blob_objects), tus uploads as multipart uploads with
/// their state in the database. Scratch files (exports, open()) under `scratch_root`.
std::unique_ptr<BlobStore> s3_blob_store(S3Config config, core::Database& db,
                                         std::filesystem::path scratch_root);

}  // namespace bookspace::files
