#include "content_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace bookspace::files {

ContentCache::Fd::~Fd() {
  ::close(fd);
}

std::optional<std::pair<File, int>> ContentCache::find(std::string const& id) {
  if (ttl_.count() <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires < std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  const int fd = ::fcntl(it->second.content->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  return std::pair{it->second.file, fd};
}

void ContentCache::put(File const& file, int fd) {
  if (ttl_.count() <= 0 || fd < 0) return;
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return;
  auto content = std::make_shared<Fd>(copy);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_) {
    std::erase_if(entries_, [now](auto const& e) { return e.second.expires < now; });
    if (entries_.size() >= max_) entries_.clear();
  }
  entries_.insert_or_assign(file.id, Entry{file, std::move(content), now + ttl_});
}

void ContentCache::forget(std::string const& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void ContentCache::forget_blob(std::string const& sha256) {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [&](auto const& e) { return e.second.file.sha256 == sha256; });
}

}  // namespace bookspace::files
