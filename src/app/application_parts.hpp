#pragma once

// Private to the kernel's app/ and tests: the pieces an Application owns.

#include "app/application.hpp"
#include "app/idempotency_store.hpp"
#include "app/lifecycle.hpp"
#include "core/async_io.hpp"
#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/disk_guard.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/mailer.hpp"
#include "core/metrics.hpp"
#include "core/migrations.hpp"
#include "core/scheduler.hpp"
#include "core/worker_pool.hpp"
#include "http/dispatcher.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <thread>

namespace bookspace::app {

struct Application::Parts {
  Parts(Config c, std::vector<ModuleDescriptor> m, core::Logger& l)
      : config(std::move(c)), descriptors(std::move(m)), log(l) {}

  Config config;
  std::vector<ModuleDescriptor> descriptors;
  core::Logger& log;
  core::SystemClock clock;
  core::RandomIdGenerator ids{clock};
  core::Metrics metrics;
  http::RateLimiter rate_limiter;
  http::Router router;
  ServiceRegistry services;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  // Declared before everything that owns io objects (timers, acceptor, sockets), so that the
  // io_contexts are destroyed last.
  /// One single-threaded io_context per io thread (see http::Server).
  std::unique_ptr<core::IoThreads> io;

  std::vector<core::Migration> plan;
  std::atomic<bool> migrations_current{false};
  std::atomic<bool> shutting_down{false};  ///< readiness fails from the first moment of stop()
  std::unique_ptr<core::Database> db;
  std::unique_ptr<core::DiskGuard> disk;
  std::unique_ptr<core::WorkerPool> cpu;
  std::unique_ptr<core::EventLog> events;
  std::unique_ptr<core::Mailer> mailer;
  std::unique_ptr<core::Scheduler> scheduler;
  std::unique_ptr<DatabaseIdempotencyStore> idempotency;
  std::unique_ptr<http::Dispatcher> dispatcher;
  std::unique_ptr<http::Server> server;
  std::vector<ModuleDescriptor const*> enabled;
  std::vector<ModuleDescriptor const*> stand_ins;  ///< created first; see ModuleDescriptor::stand_in
  std::deque<ModuleContext> contexts;              ///< one per module; outlives it
  std::vector<std::unique_ptr<Module>> modules;    ///< in start order
  Lifecycle lifecycle{log};                        ///< what started, to stop in reverse
  bool assembled = false;                          ///< assemble() ran (start() runs it too)
  bool running = false;
};

/// Every compiled-in module's migrations (enabled or not), and the kernel's: the schema belongs
/// to the binary, so split processes agree on it and a module enabled later finds its tables.
std::vector<core::MigrationSet> all_migration_sets(std::vector<ModuleDescriptor> const& modules);

}  // namespace bookspace::app
