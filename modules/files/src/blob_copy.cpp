#include "blob_copy.hpp"

#include "core/ids.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace bookspace::files {

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

namespace {

/// Hands everything behind `fd`, from its start, to `take` in 1 MiB pieces.
template <class Take>
void read_all(int fd, Take take) {
  std::string buffer(1 << 20, '\0');
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) return;
    take(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    at += n;
  }
}

}  // namespace

std::string sha256_of(int fd) {
  core::Sha256 sha;
  read_all(fd, [&](std::string_view bytes) { sha.update(bytes); });
  return sha.hex();
}

BlobStore::Stored copy(int fd, BlobStore& target) {
  auto writer = target.create();
  read_all(fd, [&](std::string_view bytes) { writer->write(bytes); });
  return writer->commit();
}

std::string human_bytes(double bytes) {
  char text[32];
  char const* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

}  // namespace bookspace::files
