#include "core/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace bookspace::core {

std::size_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return static_cast<std::size_t>(-1);
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::size_t connections_within(std::size_t fd_limit) {
  if (fd_limit <= reserved_fds + 16) return 16;
  return fd_limit - reserved_fds;
}

}  // namespace bookspace::core
