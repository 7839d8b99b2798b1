#pragma once

// The configuration turned into the kernel's options, read once: the database pool, the event
// log, the HTTP server, thread counts (0: one per usable core).

#include "app/config.hpp"
#include "core/database.hpp"
#include "core/event_log.hpp"
#include "http/server.hpp"

#include <cstddef>
#include <cstdint>

namespace bookspace::core {
class Logger;
}

namespace bookspace::app {

/// `configured` threads, or one per core this process may run on (its CPU affinity) when 0.
std::size_t threads_or_cores(std::int64_t configured);
/// database.*: the URL (embedded default), pool size (0: one per core on SQLite, two per core and
/// at least 4 on PostgreSQL), queue, SQLite's settings.
core::DatabaseOptions database_options(Config const& config);
core::EventLogOptions event_log_options(Config const& config);
/// server.*: listen address (StartupError when malformed), limits, timeouts, trusted proxies;
/// max_connections lowered to fit the open-file limit (logged).
http::ServerOptions server_options_from(Config const& config, core::Logger& log);

}  // namespace bookspace::app
