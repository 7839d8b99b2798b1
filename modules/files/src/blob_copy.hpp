#pragma once

// Copying blobs between stores (migrate-storage, backups), blocking.

#include "blob_store.hpp"

#include <string>

namespace bookspace::files {

/// Closes a descriptor (blob stores hand out descriptors the caller owns).
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd();
  Fd(Fd const&) = delete;
  Fd& operator=(Fd const&) = delete;
};

/// The SHA-256 (hex) of everything behind `fd` from its start.
std::string sha256_of(int fd);
/// Copies the content behind `fd` into `target`, which hashes it as it stores.
BlobStore::Stored copy(int fd, BlobStore& target);
/// "1.2 GiB".
std::string human_bytes(double bytes);

}  // namespace bookspace::files
