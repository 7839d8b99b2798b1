#pragma once

#include "app/config.hpp"
#include "app/module.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace bookspace::core {
class Clock;
class Logger;
}  // namespace bookspace::core

namespace bookspace::testing {
class ApplicationAccess;
}

namespace bookspace::app {

/// Thrown by start() for anything that keeps the server from running (database unreachable,
/// migration drift, address in use). The CLI prints it and exits 1.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The whole server: database, migrations, event log, modules, HTTP. Tests start and stop it
/// many times in one process; `bookspace serve` runs one until a signal.
class Application {
 public:
  Application(Config config, std::vector<ModuleDescriptor> modules, core::Logger& log);
  ~Application();
  Application(Application const&) = delete;
  Application& operator=(Application const&) = delete;

  /// Opens the database, migrates, creates the enabled modules and starts serving.
  void start();
  /// What start() builds up to the created modules — the database (migrated), pools, event log,
  /// the modules — without serving or starting them: for CLI commands that ask the modules
  /// something (`bookspace jobs types`). stop() releases it.
  void assemble();
  /// What the created modules provide (after assemble() or start()).
  ServiceRegistry const& services() const;
  /// The created module of that name (not a stand-in), or null.
  Module* module(std::string_view name) const;
  /// The bound port (after start()).
  std::uint16_t port() const;
  /// Graceful stop: drain (readiness 503, Connection: close), wait for requests in flight up to
  /// server.drain_timeout_ms, stop modules in reverse order, consumers, pools. Idempotent.
  void stop();
  /// start(), then serve until SIGINT/SIGTERM, then stop(). A second signal exits at once.
  /// Returns the process exit code.
  int run();

  /// The kernel's parts (kernel-private: app/application_parts.hpp).
  struct Parts;

 private:
  friend class testing::ApplicationAccess;  ///< tests reach the parts through tests/support only
  Parts& parts();
  std::unique_ptr<Parts> parts_;
};

}  // namespace bookspace::app
