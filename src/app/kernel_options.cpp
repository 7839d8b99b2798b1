#include "app/kernel_options.hpp"

#include "app/application.hpp"
#include "app/kernel_config.hpp"
#include "core/fd_limit.hpp"
#include "core/log.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace bookspace::app {

namespace {

/// The cores this process may run on (its CPU affinity: `taskset`, container cpusets).
std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::size_t threads_or_cores(std::int64_t configured) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return usable_cores();
}

/// database.pool_size 0: SQLite reads are CPU work, so one connection per core (more threads
/// than cores only add context switches to every handoff); PostgreSQL calls mostly wait on the
/// network, so more.
namespace {

std::size_t database_pool_size(std::int64_t configured, core::Dialect dialect) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return dialect == core::Dialect::sqlite ? usable_cores() : std::max<std::size_t>(4, 2 * usable_cores());
}

}  // namespace

/// Every connection is a descriptor: a max_connections past the open-file limit means accept()
/// fails with EMFILE long before the cap is reached (and so do the database and log files).
std::size_t fit_to_fd_limit(std::int64_t configured, core::Logger& log) {
  const auto wanted = static_cast<std::size_t>(configured);
  const std::size_t fd_limit = core::raise_fd_limit();
  if (fd_limit == 0) return wanted;
  const std::size_t fits = core::connections_within(fd_limit);
  if (wanted <= fits) return wanted;
  log.warn("server.max_connections lowered to fit the open-file limit",
           {{"configured", wanted},
            {"max_connections", fits},
            {"rlimit_nofile", fd_limit},
            {"reserved_fds", core::reserved_fds}});
  return fits;
}

core::DatabaseOptions database_options(Config const& cfg) {
  core::DatabaseOptions db_options;
  db_options.url = effective_database_url(cfg);
  db_options.pool_size =
      database_pool_size(cfg.integer("database.pool_size"), core::parse_database_url(db_options.url).dialect);
  db_options.max_queue = static_cast<std::size_t>(cfg.integer("database.max_queue"));
  db_options.busy_timeout_ms = static_cast<int>(cfg.integer("database.busy_timeout_ms"));
  db_options.sqlite_synchronous = cfg.str("database.sqlite_synchronous");
  db_options.sqlite_group_commit = cfg.boolean("database.sqlite_group_commit");
  db_options.sqlite_wal_limit_mib = static_cast<int>(cfg.integer("database.sqlite_wal_limit_mib"));
  db_options.sqlite_cache_kib = static_cast<int>(cfg.integer("database.sqlite_cache_kib"));
  return db_options;
}

core::EventLogOptions event_log_options(Config const& cfg) {
  core::EventLogOptions ev;
  ev.poll_interval_ms = static_cast<int>(cfg.integer("events.poll_interval_ms"));
  ev.batch_size = static_cast<int>(cfg.integer("events.batch_size"));
  ev.retention_hours = static_cast<int>(cfg.integer("events.retention_hours"));
  ev.prune_interval_ms = static_cast<int>(cfg.integer("events.prune_interval_ms"));
  ev.idle_advance_ms = static_cast<int>(cfg.integer("events.idle_advance_ms"));
  return ev;
}

http::ServerOptions server_options_from(Config const& cfg, core::Logger& log) {
  http::ServerOptions server_options;
  if (!parse_listen(cfg.str("server.listen"), server_options.host, server_options.port)) {
    throw StartupError("server.listen: must be HOST:PORT");
  }
  server_options.header_limit = static_cast<std::size_t>(cfg.integer("server.header_limit_bytes"));
  server_options.body_limit = static_cast<std::size_t>(cfg.integer("server.body_limit_bytes"));
  server_options.idle_timeout_ms = static_cast<int>(cfg.integer("server.idle_timeout_ms"));
  server_options.header_timeout_ms = static_cast<int>(cfg.integer("server.header_timeout_ms"));
  server_options.read_timeout_ms = static_cast<int>(cfg.integer("server.read_timeout_ms"));
  server_options.write_timeout_ms = static_cast<int>(cfg.integer("server.write_timeout_ms"));
  server_options.max_connections = fit_to_fd_limit(cfg.integer("server.max_connections"), log);
  server_options.max_connections_per_ip =
      static_cast<std::size_t>(cfg.integer("server.max_connections_per_ip"));
  server_options.body_budget = static_cast<std::size_t>(cfg.integer("server.body_budget_bytes"));
  server_options.trusted_proxies = cfg.list("server.trusted_proxies");
  return server_options;
}

}  // namespace bookspace::app
