#include "core/disk_guard.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace bookspace::core {

DiskGuard::DiskGuard(std::string dir, Logger& log, Metrics& metrics, std::uint64_t reserve_bytes)
    : path_(dir + "/.disk-reserve"),
      dir_(std::move(dir)),
      log_(log),
      full_total_(metrics.counter("bookspace_disk_full_total",
                                  "Writes that failed because the disk was full (answered 507).")),
      reserve_bytes_(reserve_bytes) {
  // On a small filesystem, a fiftieth of it (at least 256 KiB: a delete's few WAL pages fit).
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) == 0) {
    const std::uint64_t total = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    reserve_bytes_ = std::min(reserve_bytes_, std::max<std::uint64_t>(total / 50, 256u << 10));
  }
  std::lock_guard lock(mutex_);
  reserved_ = make_reserve();
}

bool DiskGuard::make_reserve() {
  if (reserve_bytes_ == 0) return false;
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  // posix_fallocate really takes the blocks (a sparse file would hold nothing back).
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(reserve_bytes_));
  ::close(fd);
  if (rc != 0) {
    ::unlink(path_.c_str());
    return false;
  }
  return true;
}

void DiskGuard::full() {
  full_total_.inc();
  std::lock_guard lock(mutex_);
  if (episode_) return;
  episode_ = true;
  if (reserved_) {
    ::unlink(path_.c_str());
    reserved_ = false;
  }
  log_.error("disk full: writes answer 507 until space is freed; the reserve was released so deletes work",
             {{"dir", dir_}, {"reserve_bytes", reserve_bytes_}});
}

void DiskGuard::check() {
  std::lock_guard lock(mutex_);
  if (reserved_ && !episode_) return;
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) return;
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes < 2 * reserve_bytes_) return;
  reserved_ = make_reserve();
  if (episode_ && reserved_) {
    episode_ = false;
    log_.info("disk space available again", {{"dir", dir_}, {"free_bytes", free_bytes}});
  }
}

bool DiskGuard::in_episode() const {
  std::lock_guard lock(mutex_);
  return episode_;
}

}  // namespace bookspace::core
