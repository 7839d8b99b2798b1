#include "app/cli.hpp"

#include "app/application.hpp"
#include "app/application_parts.hpp"
#include "app/backup.hpp"
#include "app/kernel_config.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/log_writer.hpp"
#include "core/migrations.hpp"

#include <soci/soci.h>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

#include <termios.h>
#include <unistd.h>

namespace bookspace::app {

namespace po = boost::program_options;

namespace {

/// The usage text: the kernel's commands, then each compiled-in module's (from its descriptor).
std::string usage_text(std::vector<ModuleDescriptor> const& modules) {
  std::string text =
      "Usage: bookspace <command> [options]\n\n"
      "Commands:\n"
      "  serve     run the HTTP server (applies pending migrations first)\n"
      "  migrate   apply pending database migrations and exit\n"
      "  modules   list the modules of this binary, their dependencies and whether enabled\n"
      "  config    print the effective configuration (secrets redacted)\n"
      "  backup    --to DIR: an online backup (database, key files, blobs); backup verify DIR\n"
      "  restore   --from DIR: into an empty data directory and database\n"
      "  version   print the version\n";
  for (auto const& m : modules) {
    for (auto const& c : m.commands) {
      text += "  " + std::string(c.name) + "   " + std::string(c.usage) + "  [" + std::string(m.name) + "]\n";
    }
  }
  return text + "\nRun `bookspace <command> --help` for the options of a command.\n";
}

/// A secret from a person at a terminal: the prompt on stderr, the answer without echo. From a
/// pipe, one line of stdin.
std::string read_secret(std::string_view prompt) {
  std::string line;
  if (!::isatty(STDIN_FILENO)) {
    std::getline(std::cin, line);
    return line;
  }
  // Echo goes off before the prompt shows: nothing typed after it can appear on the screen.
  termios old{};
  const bool quiet = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (quiet) {
    termios silent = old;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &silent);
  }
  std::cerr << prompt << std::flush;
  std::getline(std::cin, line);
  if (quiet) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

/// `bookspace users [--help]`: the commands of one group ("users create-admin"…), or empty.
std::string group_usage(std::string const& group, std::vector<ModuleDescriptor> const& modules) {
  std::string text;
  for (auto const& m : modules) {
    for (auto const& c : m.commands) {
      if (c.name.starts_with(group + " "))
        text += "  bookspace " + std::string(c.name) + "   " + std::string(c.usage) + "\n";
    }
  }
  if (text.empty()) return text;
  return "Commands of `bookspace " + group + "`:\n" + text + "\nRun `bookspace " + group +
         " <command> --help` for the options of one.\n";
}

/// What a command line says, parsed against `desc`.
struct Parsed {
  po::variables_map vm;
  std::vector<std::string> rest;  ///< what `desc` does not know, in order (with `keep_rest`)
};

/// Parses argv[1…] of a command. A parse error prints why (and the options) on stderr: exit 2.
/// `--help` prints the options: exit 0. Otherwise the options, and a code of -1.
std::pair<std::optional<Parsed>, int> parse_command(po::options_description const& desc,
                                                    std::string const& name, int argc, char** argv,
                                                    bool keep_rest) {
  Parsed out;
  try {
    auto parser = po::command_line_parser(argc, argv).options(desc);
    if (keep_rest) parser.allow_unregistered();
    auto parsed = parser.run();
    po::store(parsed, out.vm);
    po::notify(out.vm);
    if (keep_rest) out.rest = po::collect_unrecognized(parsed.options, po::include_positional);
  } catch (po::error const& e) {
    std::cerr << "bookspace " << name << ": " << e.what() << "\n\n" << desc << "\n";
    return {std::nullopt, 2};
  }
  if (out.vm.count("help")) {
    std::cout << desc << "\n";
    return {std::nullopt, 0};
  }
  return {std::move(out), -1};
}

void add_common(po::options_description& d) {
  d.add_options()("help,h", "show this help")(
      "config", po::value<std::string>(),
      "configuration file (JSONC); default config/bookspace.jsonc if present")(
      "database", po::value<std::string>(),
      "database URL: sqlite:///path.db or postgresql://user:pass@host/db")(
      "data-dir", po::value<std::string>(), "data directory (default ./var)")(
      "modules", po::value<std::string>(), "comma-separated modules to enable (default: all)")(
      "disable-modules", po::value<std::string>(), "comma-separated modules to disable")(
      "log-level", po::value<std::string>(), "debug, info, warn, error or off");
}

void add_serve(po::options_description& d) {
  d.add_options()("listen", po::value<std::string>(), "HOST:PORT to listen on (default 0.0.0.0:8080)")(
      "io-threads", po::value<std::string>(), "HTTP threads; 0 = one per core");
}

Config load_config(ConfigSchema const& schema, po::variables_map const& vm, char** envp) {
  ConfigSources sources;
  if (vm.count("config")) {
    sources.file = vm["config"].as<std::string>();
  } else if (std::filesystem::exists("config/bookspace.jsonc")) {
    sources.file = "config/bookspace.jsonc";
  }
  sources.env = environment_from(envp);
  static const std::pair<char const*, char const*> flag_keys[] = {{"listen", "server.listen"},
                                                                  {"database", "database.url"},
                                                                  {"data-dir", "data_dir"},
                                                                  {"modules", "modules.enabled"},
                                                                  {"disable-modules", "modules.disabled"},
                                                                  {"io-threads", "server.io_threads"},
                                                                  {"log-level", "log.level"}};
  for (auto const& [flag, key] : flag_keys) {
    if (vm.count(flag)) sources.flags[key] = vm[flag].as<std::string>();
  }
  return Config::load(schema, sources);
}

/// The configuration and module selection, checked; on error prints why and returns nullopt
/// (the caller exits 2).
std::optional<Config> load_checked(ConfigSchema const& schema, po::variables_map const& vm, char** envp,
                                   std::vector<ModuleDescriptor> const& modules) {
  try {
    Config config = load_config(schema, vm, envp);
    std::vector<ModuleDescriptor const*> stand_ins;
    resolve_modules(modules, config.list("modules.enabled"), config.list("modules.disabled"), &config,
                    &stand_ins);
    return config;
  } catch (ConfigError const& e) {
    std::cerr << "bookspace: invalid configuration: " << e.what() << "\n";
  } catch (ModuleError const& e) {
    std::cerr << "bookspace: " << e.what() << "\n";
  }
  return std::nullopt;
}

core::LogLevel level_of(Config const& config) {
  core::LogLevel level = core::LogLevel::info;
  core::parse_log_level(config.str("log.level"), level);
  return level;
}

int cmd_serve(Config config, std::vector<ModuleDescriptor> modules) {
  // Log lines (the access log above all) never make an io thread wait for stderr.
  core::LogWriter writer;
  core::Logger log(level_of(config), writer);
  Application app(std::move(config), std::move(modules), log);
  try {
    return app.run();
  } catch (StartupError const& e) {
    log.error("cannot start", {{"error", e.what()}});
    std::cerr << "bookspace: " << e.what() << "\n";
    return 1;
  } catch (ModuleError const& e) {  // a required interface no enabled module provides
    log.error("cannot start", {{"error", e.what()}});
    std::cerr << "bookspace: " << e.what() << "\n";
    return 2;
  } catch (std::exception const& e) {
    // A module that cannot make its directory, say: one line that names it, not an abort.
    log.error("cannot start", {{"error", e.what()}});
    std::cerr << "bookspace: cannot start: " << e.what() << "\n";
    return 1;
  }
}

int cmd_migrate(Config const& config, std::vector<ModuleDescriptor> const& modules, bool dry_run) {
  core::Logger log(level_of(config));
  core::DatabaseOptions options;
  options.url = effective_database_url(config);
  options.pool_size = 1;
  options.busy_timeout_ms = static_cast<int>(config.integer("database.busy_timeout_ms"));
  try {
    core::Database db(options, log);
    auto plan = core::plan_migrations(all_migration_sets(modules), db.dialect());
    core::SystemClock clock;
    db.run_blocking([&](soci::session& sql) {
      if (dry_run) {
        auto pending = core::pending_migrations(sql, db.dialect(), plan);
        for (auto const& m : pending) std::cout << "pending " << m.module << "/" << m.name << "\n";
        std::cout << pending.size() << " pending, " << plan.size() - pending.size() << " applied\n";
        return;
      }
      auto status = core::apply_migrations(sql, db.dialect(), plan, clock, log);
      for (auto const& m : status.applied_now) std::cout << "applied " << m.module << "/" << m.name << "\n";
      std::cout << status.applied_now.size() << " applied now, " << status.already_applied
                << " already applied\n";
    });
    db.stop();
    return 0;
  } catch (std::exception const& e) {
    std::cerr << "bookspace migrate: " << e.what() << "\n";
    return 1;
  }
}

int cmd_modules(Config const& config, std::vector<ModuleDescriptor> const& modules) {
  std::vector<ModuleDescriptor const*> stand_ins;
  auto enabled = resolve_modules(modules, config.list("modules.enabled"), config.list("modules.disabled"),
                                 &config, &stand_ins);
  std::printf("%-12s %-8s %-28s %s\n", "MODULE", "ENABLED", "DEPENDS ON", "SUMMARY");
  for (auto const& m : modules) {
    bool on = std::find(enabled.begin(), enabled.end(), &m) != enabled.end();
    bool stand_in = std::find(stand_ins.begin(), stand_ins.end(), &m) != stand_ins.end();
    std::string deps;
    for (auto d : m.depends_on) deps += (deps.empty() ? "" : ",") + std::string(d);
    std::printf("%-12s %-8s %-28s %s\n", std::string(m.name).c_str(),
                on ? "yes" : (stand_in ? "stand-in" : "no"), deps.empty() ? "-" : deps.c_str(),
                std::string(m.summary).c_str());
  }
  if (modules.empty()) std::printf("(this binary has no domain modules)\n");
  return 0;
}

}  // namespace

/// `bookspace <module command> [common flags] [its own args]`: opens and migrates the database,
/// then runs the command with an unstarted event log (events it publishes reach consumers once
/// a server runs).
int run_module_command(ModuleCommand const& command, std::string_view module, int argc, char** argv,
                       char** envp, std::vector<ModuleDescriptor> const& modules) {
  po::options_description desc(std::string("Options of `bookspace ") + std::string(command.name) + "` (" +
                               std::string(command.usage) + ")");
  add_common(desc);
  auto [parsed, code] = parse_command(desc, std::string(command.name), argc, argv, true);
  if (!parsed) return code;
  po::variables_map const& vm = parsed->vm;
  std::vector<std::string> rest = parsed->rest;
  ConfigSchema schema = full_schema(modules);
  std::optional<Config> config = load_checked(schema, vm, envp, modules);
  if (!config) return 2;
  core::Logger log(level_of(*config));
  core::DatabaseOptions options;
  options.url = effective_database_url(*config);
  options.pool_size = 1;
  try {
    core::Database db(options, log);
    core::SystemClock clock;
    core::RandomIdGenerator ids(clock);
    auto plan = core::plan_migrations(all_migration_sets(modules), db.dialect());
    db.run_blocking([&](soci::session& sql) { core::apply_migrations(sql, db.dialect(), plan, clock, log); });
    core::EventLog events(db, clock, ids, log, {});
    CommandContext ctx{*config,  db,        events,    clock, ids, log, config->str("data_dir"),
                       std::cin, std::cout, std::cerr, rest};
    ctx.terminal = ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO);
    ctx.read_secret = &read_secret;
    std::unique_ptr<Application> assembled;
    if (command.needs_modules) {
      assembled = std::make_unique<Application>(*config, modules, log);
      assembled->assemble();
      ctx.services = &assembled->services();
      ctx.self = assembled->module(module);
    }
    int code = command.run(ctx);
    if (assembled) assembled->stop();
    db.stop();
    return code;
  } catch (std::exception const& e) {
    std::cerr << "bookspace " << command.name << ": " << e.what() << "\n";
    return 1;
  }
}

int run_cli(int argc, char** argv, char** envp, std::vector<ModuleDescriptor> modules) {
  if (argc < 2) {
    std::cerr << usage_text(modules);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage_text(modules);
    return 0;
  }
  if (command == "version" || command == "--version") {
    if (argc >= 3 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h")) {
      std::cout << "Usage: bookspace version\n  prints the version of this binary\n";
      return 0;
    }
    std::cout << "bookspace " << BOOKSPACE_VERSION << "\n";
    return 0;
  }
  const bool known = command == "serve" || command == "migrate" || command == "modules" ||
                     command == "config" || command == "backup" || command == "restore";
  if (!known && argc >= 3) {
    const std::string two_words = command + " " + argv[2];
    for (auto const& m : modules) {
      for (auto const& c : m.commands) {
        if (c.name == two_words) return run_module_command(c, m.name, argc - 2, argv + 2, envp, modules);
      }
    }
  }
  if (!known) {
    // A group of module commands without one of them: `bookspace users --help` lists them.
    if (auto group = group_usage(command, modules); !group.empty()) {
      const bool help =
          argc >= 3 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h");
      if (help) {
        std::cout << group;
        return 0;
      }
      std::cerr << "bookspace " << command << ": "
                << (argc >= 3 ? "unknown command '" + std::string(argv[2]) + "'"
                              : std::string("which command?"))
                << "\n\n"
                << group;
      return 2;
    }
    std::cerr << "bookspace: unknown command '" << command << "'\n\n" << usage_text(modules);
    return 2;
  }

  po::options_description desc("Options of `bookspace " + command + "`");
  add_common(desc);
  if (command == "serve" || command == "config") add_serve(desc);
  if (command == "migrate") desc.add_options()("dry-run", "list pending migrations without applying them");
  const bool takes_args = command == "backup" || command == "restore";
  auto [parsed, code] = parse_command(desc, command, argc - 1, argv + 1, takes_args);
  if (!parsed) return code;
  po::variables_map const& vm = parsed->vm;

  ConfigSchema schema = full_schema(modules);
  std::optional<Config> config = load_checked(schema, vm, envp, modules);
  if (!config) return 2;

  if (command == "serve") return cmd_serve(std::move(*config), std::move(modules));
  if (command == "migrate") return cmd_migrate(*config, modules, vm.count("dry-run") > 0);
  if (command == "modules") return cmd_modules(*config, modules);
  if (command == "backup") return cmd_backup(*config, modules, parsed->rest);
  if (command == "restore") return cmd_restore(*config, modules, parsed->rest);
  std::cout << boost::json::serialize(config->to_json(true)) << "\n";
  return 0;
}

}  // namespace bookspace::app
