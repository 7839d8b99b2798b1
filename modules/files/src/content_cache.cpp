#include "content_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace bookspace::files {

ContentCache::Fd::~Fd() {
  ::close(fd);
}

std::optional<std::pair<File, int>> ContentCache::find(std::string const& id) {
  if (ttl_.count() <= 0) return std::nullopt;
  auto entry = entries_.find(id, std::chrono::steady_clock::now());
  if (!entry) return std::nullopt;
  const int fd = ::fcntl(entry->content->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  return std::pair{std::move(entry->file), fd};
}

void ContentCache::put(File const& file, int fd) {
  if (ttl_.count() <= 0 || fd < 0) return;
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return;
  const auto now = std::chrono::steady_clock::now();
  entries_.put(file.id, Entry{file, std::make_shared<Fd>(copy)}, now + ttl_, now);
}

void ContentCache::forget(std::string const& id) {
  entries_.erase(id);
}

void ContentCache::forget_blob(std::string const& sha256) {
  entries_.erase_if([&](Entry const& e) { return e.file.sha256 == sha256; });
}

}  // namespace bookspace::files
