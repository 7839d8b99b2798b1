#pragma once

// Where file contents live: content-addressed blobs. Blocking calls (disk, fsync) — callers
// run them on the module's I/O pool, never on an io thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

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
    virtual void write(std::string_view bytes) = 0;
    virtual std::uint64_t written() const = 0;
    /// Makes the content durable under its hash (fsync, rename, fsync of the directory); content
    /// already stored is kept as it is and the temporary file dropped.
    virtual Stored commit() = 0;
  };

  virtual ~BlobStore() = default;
  virtual std::unique_ptr<Writer> create() = 0;
  /// A read-only descriptor of the blob (the caller closes it); -1 when it is missing.
  virtual int open(std::string const& sha256) const = 0;
  /// Removes the blob unless it was written within `younger_than_s` seconds (an upload of the
  /// same content may be about to reference it); true when removed.
  virtual bool remove(std::string const& sha256, std::int64_t younger_than_s) = 0;
  /// Removes temporary files left by a process that died mid-upload; returns how many.
  virtual std::size_t sweep_temporary() = 0;
};

/// Blobs under `root`: `sha256/ab/cd/<hash>`, temporary files in `tmp/` (same filesystem, so the
/// final rename is atomic).
std::unique_ptr<BlobStore> local_blob_store(std::filesystem::path root);

}  // namespace bookspace::files
