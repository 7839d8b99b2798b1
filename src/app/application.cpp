#include "app/application.hpp"

#include "app/application_parts.hpp"
#include "app/kernel_config.hpp"
#include "app/kernel_options.hpp"
#include "app/lifecycle.hpp"
#include "app/ops_routes.hpp"

#include <bookspace/migrations/kernel.hpp>

#include <soci/soci.h>

#include "core/fd_limit.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <condition_variable>
#include <csignal>
#include <mutex>

#include <sched.h>

namespace bookspace::app {

std::vector<core::MigrationSet> all_migration_sets(std::vector<ModuleDescriptor> const& modules) {
  std::vector<core::MigrationSet> sets{{"kernel", migrations::kernel()}};
  for (auto const& m : modules) {
    if (m.migrations) sets.push_back({std::string(m.name), m.migrations()});
  }
  return sets;
}

Application::Application(Config config, std::vector<ModuleDescriptor> modules, core::Logger& log)
    : parts_(std::make_unique<Parts>(std::move(config), std::move(modules), log)) {}

Application::~Application() {
  stop();
}

namespace {

/// The data directory exists (made if need be) and this process may write in it: else one clear
/// line naming the path and the reason, exit 1 (instead of an abort deep in some module).
void ensure_writable(std::string const& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw StartupError("data_dir " + dir + " cannot be created: " + ec.message() + " (running as uid " +
                       std::to_string(::geteuid()) + ")");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw StartupError("data_dir " + dir + " is not writable: " + std::strerror(errno) + " (running as uid " +
                       std::to_string(::geteuid()) + ")");
  }
}

void open_database(Application::Parts& p) {
  const core::DatabaseOptions db_options = database_options(p.config);
  try {
    p.db = std::make_unique<core::Database>(db_options, p.log);
  } catch (std::exception const& e) {
    throw StartupError("cannot open database " + core::redact_database_url(db_options.url) + ": " + e.what());
  }
}

void migrate(Application::Parts& p) {
  auto const& cfg = p.config;
  try {
    p.plan = core::plan_migrations(all_migration_sets(p.descriptors), p.db->dialect());
    p.db->run_blocking([&](soci::session& sql) {
      if (cfg.boolean("migrations.auto")) {
        core::apply_migrations(sql, p.db->dialect(), p.plan, p.clock, p.log);
      } else if (auto pending = core::pending_migrations(sql, p.db->dialect(), p.plan); !pending.empty()) {
        throw core::MigrationError(
            std::to_string(pending.size()) +
            " migration(s) pending and migrations.auto is off; run `bookspace migrate`");
      }
    });
    p.migrations_current = true;
  } catch (core::MigrationError const& e) {
    throw StartupError(e.what());
  } catch (std::exception const& e) {
    throw StartupError(std::string("migrations failed: ") + e.what());
  }
}

void create_modules(Application::Parts& p) {
  auto const& cfg = p.config;
  auto context = [&]() -> ModuleContext& {
    return p.contexts.emplace_back(ModuleContext{p.config, *p.db, *p.events, *p.cpu, p.clock, p.ids, p.log,
                                                 p.metrics, p.rate_limiter, p.services, *p.mailer,
                                                 *p.scheduler, cfg.str("data_dir")});
  };
  for (auto const* d : p.stand_ins) {
    p.modules.push_back(d->stand_in(context()));
    p.modules.back()->subscribe(*p.events);
    p.log.info("module stand-in", {{"module", std::string(d->name)},
                                   {std::string(d->stand_in_key), cfg.str(std::string(d->stand_in_key))}});
  }
  for (auto const* d : p.enabled) {
    for (auto const& needed : d->required) {
      if (!p.services.has(needed.type))
        throw ModuleError("module '" + std::string(d->name) + "' requires " + needed.name +
                          ", which no enabled module (or stand-in) provides");
    }
    p.modules.push_back(d->create(context()));
    for (auto const& offered : d->provides) {
      if (!p.services.has(offered.type))
        throw std::logic_error("module '" + std::string(d->name) + "' declares it provides " + offered.name +
                               " but did not");
    }
    p.router.set_module(std::string(d->name));
    p.modules.back()->register_routes(p.router);
    p.modules.back()->subscribe(*p.events);
  }
  p.router.set_module("kernel");
}

void schedule_kernel_tasks(Application::Parts& p) {
  auto const& cfg = p.config;
  p.scheduler->every({"kernel.event_prune",
                      std::chrono::milliseconds(cfg.integer("events.prune_interval_ms")), 0.1, false,
                      [&p](soci::session& sql) {
                        if (auto n = p.events->prune(sql); n > 0)
                          p.log.debug("events pruned", {{"count", n}});
                      }});
  p.scheduler->every({"kernel.idempotency_prune", std::chrono::minutes(1), 0.1, false,
                      [&p](soci::session& sql) { p.idempotency->prune(sql); }});
  p.scheduler->every(
      {"kernel.disk_guard", std::chrono::seconds(5), 0.0, false, [&p](soci::session&) { p.disk->check(); }});
  if (p.db->background_checkpoints()) {
    p.scheduler->every({"kernel.sqlite_checkpoint",
                        std::chrono::milliseconds(cfg.integer("database.sqlite_checkpoint_interval_ms")), 0.0,
                        false, [&p](soci::session& sql) { p.db->checkpoint(sql); }});
  }
}

}  // namespace

Application::Parts& Application::parts() {
  return *parts_;
}

void Application::assemble() {
  auto& p = *parts_;
  if (p.assembled) throw std::logic_error("an Application is assembled once");
  auto const& cfg = p.config;
  // Request bodies are short-lived and up to megabytes each. With glibc's sliding mmap threshold
  // a burst of them is served from the heap and its memory stays with the process afterwards;
  // a fixed threshold keeps every allocation past 256 KiB in its own mapping, returned on free.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  p.stand_ins.clear();
  p.enabled = resolve_modules(p.descriptors, cfg.list("modules.enabled"), cfg.list("modules.disabled"), &cfg,
                              &p.stand_ins);
  p.assembled = true;
  try {
    ensure_writable(cfg.str("data_dir"));
    auto& life = p.lifecycle;
    life.step(
        "database", [&] { open_database(p); }, [&p] { p.db->stop(); });
    p.disk = std::make_unique<core::DiskGuard>(cfg.str("data_dir"), p.log, p.metrics);
    p.db->on_storage_full([disk = p.disk.get()] { disk->full(); });
    migrate(p);
    life.step(
        "cpu pool",
        [&] {
          p.cpu =
              std::make_unique<core::WorkerPool>("cpu", threads_or_cores(cfg.integer("workers.cpu_threads")),
                                                 static_cast<std::size_t>(cfg.integer("workers.cpu_queue")),
                                                 static_cast<int>(cfg.integer("workers.cpu_nice")));
        },
        [&p] { p.cpu->stop(); });
    p.events = std::make_unique<core::EventLog>(*p.db, p.clock, p.ids, p.log, event_log_options(cfg));
    // What was queued last gets a chance to go out.
    life.step(
        "mailer", [&] { p.mailer = std::make_unique<core::Mailer>(mailer_options(cfg), p.log, p.metrics); },
        [&p] { p.mailer->stop(std::chrono::seconds(5)); });
    p.scheduler = std::make_unique<core::Scheduler>(*p.db, p.log, p.metrics);
    p.metrics.collector("log_dropped_lines_total", "Log lines dropped because the log buffer was full.",
                        "counter", [&log = p.log](std::string& out) {
                          core::append_sample(out, "log_dropped_lines_total", "",
                                              static_cast<double>(log.dropped()));
                        });
    register_ops_routes({p.router, *p.db, *p.events, *p.cpu, p.metrics, p.log, p.plan, p.migrations_current,
                         [&p] { return p.shutting_down || (p.server && p.server->draining()); }, p.modules,
                         p.started_at, cfg.str("server.metrics_token")});
    create_modules(p);
  } catch (...) {
    p.lifecycle.unwind();
    throw;
  }
}

namespace {

/// The pipeline and the listener: bound now, accepting only once everything else started.
void open_listener(Application::Parts& p, http::ServerOptions const& server_options) {
  auto const& cfg = p.config;
  http::DispatcherOptions dispatch_options;
  dispatch_options.cors_origins = cfg.list("server.cors_origins");
  dispatch_options.access_log = cfg.boolean("log.access_log");
  dispatch_options.service_key = cfg.str("cluster.service_key");
  dispatch_options.on_disk_full = [disk = p.disk.get()] { disk->full(); };
  p.dispatcher =
      std::make_unique<http::Dispatcher>(p.router, p.log, p.metrics, p.rate_limiter, dispatch_options);
  // The module that authenticates bearer credentials (auth) provides it; without one, routes
  // that need a principal answer 401.
  p.dispatcher->set_authenticator(p.services.find<http::Authenticator>());
  p.idempotency = std::make_unique<DatabaseIdempotencyStore>(*p.db, p.clock);
  p.dispatcher->set_idempotency_store(p.idempotency.get());
  p.io = std::make_unique<core::IoThreads>(threads_or_cores(cfg.integer("server.io_threads")));
  p.server =
      std::make_unique<http::Server>(p.io->contexts(), *p.dispatcher, p.log, p.metrics, server_options);
  try {
    p.server->start();
  } catch (std::exception const& e) {
    throw StartupError("cannot listen on " + cfg.str("server.listen") + ": " + e.what());
  }
}

/// The mirror of accepting: readiness fails first while everything is still served (load
/// balancers stop sending new work), then the listener closes, requests in flight finish and
/// WebSockets finish their 1001 close handshake, within the drain deadline.
void drain(Application::Parts& p) {
  p.shutting_down = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(p.config.integer("server.drain_delay_ms")));
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(p.config.integer("server.drain_timeout_ms"));
  p.server->begin_drain();
  const bool idle = p.server->wait_idle(deadline);
  p.server->wait_websockets_closed(deadline);
  if (!idle) {
    p.log.warn("drain deadline passed; closing connections", {{"in_flight", p.server->in_flight()}});
  }
  p.server->close_all();
  // Handlers whose connection was just closed see it and finish — a resumable upload records
  // what arrived — while the modules' pools and the database are still there for them.
  p.server->wait_idle(std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
}

}  // namespace

void Application::start() {
  auto& p = *parts_;
  if (p.running) throw std::logic_error("an Application starts once");
  p.shutting_down = false;
  if (!p.assembled) assemble();
  const http::ServerOptions server_options = server_options_from(p.config, p.log);
  auto& life = p.lifecycle;
  try {
    // Start-up, in dependency order; stop() unwinds it in reverse (Lifecycle).
    life.step("listener", [&] { open_listener(p, server_options); }, {});
    life.step(
        "io threads", [&] { p.io->start(); }, [&p] { p.io->stop(); });
    life.step(
        "event log", [&] { p.events->start(p.io->background()); }, [&p] { p.events->stop(); });
    life.step(
        "scheduler",
        [&] {
          schedule_kernel_tasks(p);
          p.scheduler->start();
        },
        [&p] { p.scheduler->stop(); });
    for (auto& m : p.modules)
      life.step(
          "module", [&] { m->start(); }, [m = m.get()] { m->stop(); });
    // Only now: a request answered before every module started could meet stale security state
    // (a session revoked before the restart, say). Until here, connections wait in the backlog.
    life.step(
        "accepting", [&] { p.server->accept(); }, [&p] { drain(p); });
  } catch (...) {
    stop();
    throw;
  }
  p.running = true;
  std::string names;
  for (auto const* d : p.enabled) names += (names.empty() ? "" : ",") + std::string(d->name);
  p.log.info("listening", {{"host", server_options.host},
                           {"port", p.server->port()},
                           {"io_threads", p.io->size()},
                           {"database", core::to_string(p.db->dialect())},
                           {"modules", names},
                           {"version", BOOKSPACE_VERSION}});
}

std::uint16_t Application::port() const {
  return parts_->server ? parts_->server->port() : 0;
}

ServiceRegistry const& Application::services() const {
  return parts_->services;
}

Module* Application::module(std::string_view name) const {
  auto const& p = *parts_;
  // Stand-ins come first in `modules`, then the enabled modules in the order of `enabled`.
  const std::size_t first = p.modules.size() - p.enabled.size();
  for (std::size_t i = 0; i < p.enabled.size(); ++i) {
    if (p.enabled[i]->name == name && first + i < p.modules.size()) return p.modules[first + i].get();
  }
  return nullptr;
}

void Application::stop() {
  auto& p = *parts_;
  if (!p.assembled) return;
  p.shutting_down = true;
  p.lifecycle.unwind();
  // Modules go after everything that could still call into them (the pools) has stopped.
  p.modules.clear();
  p.contexts.clear();
  p.assembled = false;
  if (p.running) p.log.info("stopped");
  p.running = false;
}

int Application::run() {
  auto& p = *parts_;
  // Signals are handled on a thread of their own so that a blocked io thread cannot delay them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  start();
  int sig = 0;
  sigwait(&set, &sig);
  p.log.info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  std::thread second([set]() mutable {
    int again = 0;
    if (sigwait(&set, &again) == 0) std::_Exit(130);
  });
  second.detach();
  stop();
  return 0;
}

}  // namespace bookspace::app
