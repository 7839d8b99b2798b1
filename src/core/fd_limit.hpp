#pragma once

#include <cstddef>

namespace bookspace::core {

/// Raises the soft RLIMIT_NOFILE to the hard limit (as nginx's worker_rlimit_nofile would) and
/// returns the soft limit now in force (0 when it cannot be read).
std::size_t raise_fd_limit();

/// File descriptors kept free of client connections: the database pool, log and mail files,
/// epoll/timer/event fds, and what modules open. A server whose connections could use every
/// descriptor would fail to accept, to open a file and to reach its database all at once.
inline constexpr std::size_t reserved_fds = 128;

/// The largest max_connections that fits `fd_limit` with reserved_fds spare (at least 16).
std::size_t connections_within(std::size_t fd_limit);

}  // namespace bookspace::core
