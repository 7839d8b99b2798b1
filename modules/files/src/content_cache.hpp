#pragma once

// Recently served files and descriptors of their content, so that a download that hits takes no
// thread hop (the row and the open would otherwise each run on a pool). Files never change, so
// an entry is only ever stale by a deletion: every instance forgets on files.deleted.v1 (its
// event tail), and the time to live (files.cache_ms) bounds a lagging tail. Bounded; thread-safe.

#include "core/ttl_cache.hpp"
#include "store.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace bookspace::files {

class ContentCache {
 public:
  ContentCache(std::chrono::milliseconds ttl, std::size_t max_entries) : ttl_(ttl), entries_(max_entries) {}
  /// The file and a new descriptor of its content (the caller closes it), while fresh.
  std::optional<std::pair<File, int>> find(std::string const& id);
  /// Remembers `file` with a duplicate of `fd` (the caller keeps `fd`).
  void put(File const& file, int fd);
  void forget(std::string const& id);
  void forget_blob(std::string const& sha256);

 private:
  struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd();
  };
  struct Entry {
    File file;
    std::shared_ptr<Fd> content;  ///< closed when the last copy of the entry goes
  };
  const std::chrono::milliseconds ttl_;
  core::TtlCache<Entry> entries_;
};

}  // namespace bookspace::files
