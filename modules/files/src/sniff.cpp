#include "sniff.hpp"

#include <magic.h>

#include <memory>

namespace bookspace::files {

namespace {

/// A libmagic cookie is not thread-safe: one per thread, loaded on first use.
struct Cookie {
  magic_t cookie = nullptr;
  Cookie() {
    cookie = ::magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    if (cookie && ::magic_load(cookie, nullptr) != 0) {
      ::magic_close(cookie);
      cookie = nullptr;
    }
  }
  ~Cookie() {
    if (cookie) ::magic_close(cookie);
  }
};

}  // namespace

std::string sniff_type(std::string_view head) {
  thread_local Cookie magic;
  if (!magic.cookie || head.empty()) return "application/octet-stream";
  char const* type = ::magic_buffer(magic.cookie, head.data(), head.size());
  return type ? std::string(type) : "application/octet-stream";
}

}  // namespace bookspace::files
