#pragma once

#include "app/config.hpp"
#include "core/migrations.hpp"

#include <boost/core/demangle.hpp>
#include <boost/json/object.hpp>

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
class EventLog;
class IdGenerator;
class Logger;
class Mailer;
class Metrics;
class Scheduler;
class WorkerPool;
}  // namespace bookspace::core

namespace bookspace::http {
class Authenticator;
class RateLimiter;
class Router;
}  // namespace bookspace::http

namespace bookspace::app {

/// Unknown module names, a missing dependency or interface, or a cycle: exit code 2.
class ModuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A cross-module interface named by its type (`app::interface<documents::Access>()`), as a
/// descriptor declares what its module provides and requires.
struct Interface {
  std::type_index type;
  std::string name;  ///< "bookspace::documents::Access", for messages
};
template <class T>
Interface interface() {
  return {std::type_index(typeid(T)), boost::core::demangle(typeid(T).name())};
}

/// Cross-module interfaces by type: a module provides `documents::Access`, another finds it. The
/// kernel finds what modules provide to it here too: the `http::Authenticator` (auth).
/// Modules never reach into each other's implementation; this is how they meet.
class ServiceRegistry {
 public:
  template <class T>
  void provide(T& service) {
    services_[std::type_index(typeid(T))] = &service;
  }
  /// The interface when some module provides it; null otherwise (an optional dependency).
  template <class T>
  T* find() const {
    auto it = services_.find(std::type_index(typeid(T)));
    return it == services_.end() ? nullptr : static_cast<T*>(it->second);
  }
  /// The interface a module cannot work without: ModuleError (exit 2) naming it when missing.
  /// The kernel checks a descriptor's `required` before it creates the module, so this only
  /// fails for an interface the descriptor forgot to declare.
  template <class T>
  T& require() const {
    if (T* found = find<T>()) return *found;
    throw ModuleError("required interface " + interface<T>().name + " is provided by no enabled module");
  }
  bool has(std::type_index type) const { return services_.contains(type); }

 private:
  std::unordered_map<std::type_index, void*> services_;
};

/// What the kernel hands a module: its dependencies, injected (no globals).
struct ModuleContext {
  Config const& config;
  core::Database& db;
  core::EventLog& events;
  core::WorkerPool& cpu;  ///< bounded pool for CPU-heavy work (password hashing)
  core::Clock const& clock;
  core::IdGenerator& ids;
  core::Logger& log;
  core::Metrics& metrics;
  http::RateLimiter& rate_limiter;
  ServiceRegistry& services;
  core::Mailer& mailer;        ///< SMTP, or the spool directory in embedded mode
  core::Scheduler& scheduler;  ///< periodic and delayed background work (its own thread and connection)
  std::string data_dir;
};

/// One named readiness check of a module: "ok", or what is wrong ("unreachable"…).
struct ReadinessCheck {
  std::string name;
  std::string state;
};

/// A domain module. Lifecycle: created (dependencies first) → register_routes → subscribe →
/// start; stop runs in reverse order. See docs/architecture.md, "Adding a module".
class Module {
 public:
  virtual ~Module() = default;
  virtual void register_routes(http::Router&) {}
  /// Durable consumers of other modules' events (EventLog::subscribe).
  virtual void subscribe(core::EventLog&) {}
  /// Background tasks; the io threads are running.
  virtual void start() {}
  virtual void stop() {}
  /// OpenAPI `components.schemas` entries this module's routes refer to.
  virtual boost::json::object openapi_schemas() const { return {}; }
  /// Checks /readyz adds (a store the module cannot work without), as last measured: never
  /// blocking (a scheduler task measures).
  virtual std::vector<ReadinessCheck> readiness() const { return {}; }
};

/// What a CLI command of a module gets: the database (migrated), the event log (publish only;
/// consumers run in servers), and the terminal.
struct CommandContext {
  Config const& config;
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  core::IdGenerator& ids;
  core::Logger& log;
  std::string data_dir;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;              ///< errors and progress (stderr), never mixed into `out`
  std::vector<std::string> args;  ///< what follows the command name, common flags removed
  /// Standard input and error are a terminal: a person is there (prompts, progress).
  bool terminal = false;
  /// Asks for a secret: on a terminal, `prompt` on stderr and the answer read without echo;
  /// otherwise one line of `in`.
  std::function<std::string(std::string_view prompt)> read_secret;
  /// For a command with `needs_modules`: what the enabled modules provide (they are created, not
  /// started); null otherwise.
  ServiceRegistry const* services = nullptr;
  /// For a command with `needs_modules`: its own module, created (not started), so that the
  /// command reaches the module's private services without them entering the registry.
  Module* self = nullptr;
};

/// `bookspace <name…> [args]`, e.g. "users create-admin". Returns the exit code.
struct ModuleCommand {
  std::string_view name;
  std::string_view usage;
  int (*run)(CommandContext&) = nullptr;
  /// The enabled modules are created first (CommandContext::services), e.g. to list what they
  /// registered; most commands need only the database.
  bool needs_modules = false;
};

/// What `bookspace backup`, `backup verify` and `restore` hand a module for its data outside
/// the database (files: its blobs). docs/operations.md, "Backups".
struct BackupContext {
  Config const& config;
  core::Database& db;  ///< backup: the live database; restore: the restored one
  std::string data_dir;
  std::filesystem::path set_dir;   ///< this backup (DIR/backup-<time>)
  std::filesystem::path pool_dir;  ///< shared by the backups in DIR (incremental)
  boost::json::object& part;       ///< the module's entry in the manifest
  std::ostream& err;               ///< progress and problems
  bool terminal = false;
  std::vector<std::string>& problems;  ///< verify and restore: what is wrong (empty: nothing)
};

struct BackupHooks {
  void (*save)(BackupContext&) = nullptr;
  void (*verify)(BackupContext&) = nullptr;
  void (*restore)(BackupContext&) = nullptr;
};

/// What the binary knows of a module before creating it: enough for `bookspace modules`,
/// configuration, migrations and CLI commands. src/main.cpp lists these explicitly.
struct ModuleDescriptor {
  std::string_view name;
  std::string_view summary;
  /// Modules it cannot run without (created before it; CMake: DEPENDS).
  std::vector<std::string_view> depends_on = {};
  /// Modules it uses when they are enabled and does without otherwise (files enqueues text
  /// extraction when jobs runs): created before it when present, never required (CMake: USES).
  std::vector<std::string_view> uses = {};
  /// The cross-module interfaces it puts in the ServiceRegistry (checked once it is created).
  std::vector<Interface> provides = {};
  /// The interfaces it cannot be created without (checked before: exit 2 naming the interface
  /// and the module). Optional ones (jobs::Queue for files) are found, not required.
  std::vector<Interface> required = {};
  std::span<const core::MigrationFile> (*migrations)() = nullptr;
  void (*declare_config)(ConfigSchema&) = nullptr;  ///< keys under "<name>."
  std::unique_ptr<Module> (*create)(ModuleContext&) = nullptr;
  std::vector<ModuleCommand> commands = {};
  /// What runs in place of this module in a process that does not run it but runs a module
  /// that depends on it (a split deployment, docs/operations.md): a Module providing the same
  /// ServiceRegistry interfaces by reaching the process that runs the real one — auth's
  /// verifies tokens from its JWKS. It has no routes, tables or migrations of its own and is
  /// created before the enabled modules. Null: dependents need the module itself.
  std::unique_ptr<Module> (*stand_in)(ModuleContext&) = nullptr;
  /// The configuration key that says where the real module runs ("auth.jwks_url"); the stand-in
  /// is used only when it is set.
  std::string_view stand_in_key = {};
  /// Its part of backups (data outside the database); none: the database holds all of it.
  BackupHooks backup = {};
};

/// The enabled modules in start order (dependencies first). `enabled` empty means all;
/// `disabled` is removed from that. A dependency that is not enabled is an error unless it has
/// a stand-in whose key is set in `config`; those modules go to `stand_ins` (not null then).
std::vector<ModuleDescriptor const*> resolve_modules(
    std::vector<ModuleDescriptor> const& all, std::vector<std::string> const& enabled,
    std::vector<std::string> const& disabled, Config const* config = nullptr,
    std::vector<ModuleDescriptor const*>* stand_ins = nullptr);

}  // namespace bookspace::app
