#include "app/kernel_config.hpp"

#include "core/database.hpp"
#include "core/log.hpp"
#include "core/mailer.hpp"
#include "http/client_address.hpp"

namespace bookspace::app {

namespace json = boost::json;

bool parse_listen(std::string const& text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string digits = text.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const long value = std::stol(digits);
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::string effective_database_url(Config const& config) {
  std::string url = config.str("database.url");
  if (!url.empty()) return url;
  return "sqlite://" + config.str("data_dir") + "/bookspace.db";
}

namespace {

/// The HTTP server: where it listens, its limits and timeouts, connections, proxies, CORS.
void declare_server_keys(ConfigSchema& s) {
  ConfigKey listen{"server.listen", ConfigType::string, "0.0.0.0:8080",
                   "Address and port to serve on (HOST:PORT)."};
  listen.validate = [](json::value const& v) -> std::optional<std::string> {
    std::string host;
    std::uint16_t port;
    if (!parse_listen(std::string(v.as_string()), host, port)) return "must be HOST:PORT, e.g. 0.0.0.0:8080";
    return std::nullopt;
  };
  s.add(std::move(listen));
  s.add(integer_key("server.io_threads", 0, 0, 256,
                    "Threads serving HTTP; 0 = one per core the process may use."));
  s.add(integer_key("server.header_limit_bytes", 16384, 1024, 1 << 20,
                    "Largest request line + headers (431 beyond)."));
  s.add(integer_key("server.body_limit_bytes", 1052672, 1024, std::int64_t{1} << 34,
                    "Default largest request body (413 beyond); routes may set their own."));
  s.add(integer_key("server.idle_timeout_ms", 60000, 100, 3600000,
                    "Keep-alive: how long to wait for the next request."));
  s.add(integer_key("server.header_timeout_ms", 10000, 100, 3600000,
                    "How long a request line and its headers may take to arrive once begun (and on a new "
                    "connection, from connect): slow-header clients lose their slot."));
  s.add(integer_key("server.read_timeout_ms", 30000, 100, 3600000,
                    "How long reading one request body may take."));
  s.add(
      integer_key("server.write_timeout_ms", 30000, 100, 3600000, "How long writing one response may take."));
  s.add(integer_key("server.drain_timeout_ms", 10000, 0, 600000,
                    "On SIGTERM: how long requests in flight may take to finish."));
  s.add(integer_key("server.drain_delay_ms", 0, 0, 600000,
                    "On SIGTERM: how long /readyz answers 503 while still serving, before the listener "
                    "closes (give load balancers time to notice)."));
  s.add(integer_key("server.max_connections", 10000, 1, 1000000,
                    "Open connections; at the cap the oldest idle one is closed to admit a new one, and "
                    "when none is idle the new one is closed at once. Lowered at start to fit the open-file "
                    "limit (RLIMIT_NOFILE, raised to its hard limit) with 128 descriptors to spare."));
  s.add(integer_key("server.max_connections_per_ip", 256, 1, 1000000,
                    "Open connections from one client address; more are closed at once. Trusted proxies "
                    "are exempt."));
  s.add(integer_key("server.body_budget_bytes", 268435456, 65536, std::int64_t{1} << 40,
                    "Request-body bytes buffered in memory at once, over all connections; a body that "
                    "would exceed it is refused with 503 overloaded + Retry-After."));
  ConfigKey proxies{"server.trusted_proxies", ConfigType::string_list, json::array(),
                    "Proxies (addresses or CIDR networks) whose X-Forwarded-For gives the client address "
                    "(rate limits, logs, sessions); their connections are exempt from the per-IP cap. "
                    "Empty: X-Forwarded-For is ignored."};
  proxies.validate = [](json::value const& v) -> std::optional<std::string> {
    for (auto const& item : v.as_array()) {
      if (auto why = http::ProxyTrust::invalid(item.as_string())) return why;
    }
    return std::nullopt;
  };
  s.add(std::move(proxies));
  s.add({"server.cors_origins", ConfigType::string_list, json::array(),
         "Origins allowed by CORS (exact, or \"*\"); empty disables CORS."});
}

/// The database: which one, its pool, SQLite's durability and checkpoints.
void declare_database_keys(ConfigSchema& s) {
  ConfigKey url{"database.url", ConfigType::string, "",
                "sqlite:///path.db or postgresql://user:pass@host/db; empty = sqlite in data_dir."};
  url.redact = [](std::string const& v) { return core::redact_database_url(v); };
  url.validate = [](json::value const& v) -> std::optional<std::string> {
    if (v.as_string().empty()) return std::nullopt;
    try {
      core::parse_database_url(std::string(v.as_string()));
    } catch (std::exception const& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  };
  s.add(std::move(url));
  s.add(integer_key("database.pool_size", 0, 0, 256,
                    "Connections (and database worker threads); 0 = one per core on SQLite, two per core "
                    "(at least 4) on PostgreSQL."));
  s.add(integer_key("database.max_queue", 4096, 1, 1000000, "Database calls waiting beyond this get 503."));
  s.add(integer_key("database.busy_timeout_ms", 5000, 0, 600000,
                    "SQLite: how long a writer waits for the lock."));
  s.add({"database.sqlite_group_commit", ConfigType::boolean, true,
         "SQLite: concurrent write transactions share one commit and one fsync (each still answered only "
         "once on disk); WAL checkpoints run in the background instead of inside a request's commit."});
  s.add(integer_key("database.sqlite_cache_kib", 32768, 512, 16777216,
                    "SQLite: page cache of each connection (filled as pages are read). Large databases write "
                    "faster when their indexes' upper levels stay in it."));
  s.add(integer_key(
      "database.sqlite_checkpoint_interval_ms", 1000, 10, 3600000,
      "SQLite with group commit: how often the WAL is checkpointed (passive) in the background."));
  s.add(integer_key("database.sqlite_wal_limit_mib", 128, 0, 1048576,
                    "SQLite with group commit: past this size the writer starts the WAL over between two "
                    "commits (sustained writes never let passive checkpoints catch up); the WAL file is cut "
                    "back to it. 0: unbounded."));
  ConfigKey sync{"database.sqlite_synchronous", ConfigType::string, "FULL",
                 "SQLite synchronous pragma; FULL means a 2xx is on disk."};
  sync.choices = {"FULL", "NORMAL", "EXTRA"};
  s.add(std::move(sync));
}

/// Where data lives, logging, which modules run, the CPU pool, the event log.
void declare_process_keys(ConfigSchema& s) {
  s.add({"data_dir", ConfigType::string, "./var", "Where embedded mode keeps its database, files and keys."});

  ConfigKey level{"log.level", ConfigType::string, "info", "debug, info, warn, error or off."};
  level.choices = {"debug", "info", "warn", "error", "off"};
  s.add(std::move(level));
  s.add({"log.access_log", ConfigType::boolean, true, "One JSON line per request at level info."});

  s.add({"modules.enabled", ConfigType::string_list, json::array(), "Modules to run; empty = all."});
  s.add({"modules.disabled", ConfigType::string_list, json::array(), "Modules not to run."});

  s.add(
      integer_key("workers.cpu_threads", 0, 0, 256, "CPU-heavy work (password hashing); 0 = one per core."));
  s.add(integer_key("workers.cpu_queue", 64, 1, 100000, "CPU tasks waiting beyond this are shed with 503."));
  s.add(integer_key("workers.cpu_nice", 10, 0, 19,
                    "Nice value of the CPU threads: hashing yields the cores to request handling."));

  s.add(integer_key("events.poll_interval_ms", 500, 10, 600000,
                    "How often consumers look for events of other processes."));
  s.add(integer_key("events.batch_size", 100, 1, 10000, "Events handled per consumer transaction."));
  s.add(integer_key("events.retention_hours", 168, 0, 87600,
                    "How long events are kept after every consumer has processed them."));
  s.add(integer_key("events.prune_interval_ms", 60000, 1000, 86400000, "How often old events are pruned."));
  s.add(integer_key("events.idle_advance_ms", 10000, 100, 86400000,
                    "How often a consumer of some event types stores its offset past other types' events "
                    "(so that they can be pruned)."));
}

/// How mail leaves: SMTP, or a spool directory.
void declare_mail_keys(ConfigSchema& s) {
  s.add({"mail.smtp_url", ConfigType::string, "",
         "smtp://host:587 (STARTTLS when offered) or smtps://host:465; empty: mail is written to "
         "mail.spool_dir and logged (embedded mode)."});
  s.add({"mail.smtp_username", ConfigType::string, "", "SMTP login; empty: no authentication."});
  ConfigKey smtp_password{"mail.smtp_password", ConfigType::string, "", "SMTP password."};
  smtp_password.redact = [](std::string const&) { return std::string("***"); };
  s.add(std::move(smtp_password));
  ConfigKey from{"mail.from", ConfigType::string, "BookSpace <bookspace@localhost>",
                 "Sender of every mail: an address, or \"Name <address>\"."};
  from.validate = [](json::value const& v) -> std::optional<std::string> {
    std::string mailbox(v.as_string());
    if (core::mail_address(mailbox).find('@') == std::string::npos) return "must contain an email address";
    if (mailbox.find_first_of("\r\n") != std::string::npos) return "must be one line";
    return std::nullopt;
  };
  s.add(std::move(from));
  s.add({"mail.spool_dir", ConfigType::string, "", "Where mail goes without SMTP; empty: <data_dir>/mail."});
  s.add({"mail.smtp_ca_file", ConfigType::string, "",
         "PEM file of the CA(s) that signed the SMTP server's certificate (a private CA); empty: the "
         "system's."});
  s.add({"mail.smtp_tls_verify", ConfigType::boolean, true,
         "Verify the SMTP server's certificate and name (STARTTLS and smtps://). Turn off only for a test "
         "server."});
}

/// Migrations at start, who may read /metrics, how split processes call each other.
void declare_access_keys(ConfigSchema& s) {
  s.add({"migrations.auto", ConfigType::boolean, true, "serve applies pending migrations at start."});

  ConfigKey metrics_token{
      "server.metrics_token", ConfigType::string, "",
      "When set, GET /metrics needs `Authorization: Bearer <token>` (Prometheus' "
      "authorization.credentials); empty: /metrics is open (keep it private at the proxy)."};
  metrics_token.redact = [](std::string const&) { return std::string("***"); };
  s.add(std::move(metrics_token));

  ConfigKey service_key{"cluster.service_key", ConfigType::string, "",
                        "Shared secret (at least 32 characters) with which the processes of a split "
                        "deployment call each other's internal routes (a module's stand-in reaching the "
                        "process that runs the module); empty: no internal routes."};
  service_key.redact = [](std::string const&) { return std::string("***"); };
  service_key.validate = [](json::value const& v) -> std::optional<std::string> {
    auto const& key = v.as_string();
    if (!key.empty() && key.size() < 32) return "must be at least 32 characters";
    return std::nullopt;
  };
  s.add(std::move(service_key));
}

}  // namespace

void declare_kernel_config(ConfigSchema& s) {
  declare_server_keys(s);
  declare_database_keys(s);
  declare_process_keys(s);
  declare_mail_keys(s);
  declare_access_keys(s);
}

core::MailerOptions mailer_options(Config const& config) {
  core::MailerOptions o;
  o.smtp_url = config.str("mail.smtp_url");
  o.smtp_username = config.str("mail.smtp_username");
  o.smtp_password = config.str("mail.smtp_password");
  o.from = config.str("mail.from");
  o.spool_dir = config.str("mail.spool_dir");
  o.ca_file = config.str("mail.smtp_ca_file");
  o.tls_verify = config.boolean("mail.smtp_tls_verify");
  if (o.spool_dir.empty()) o.spool_dir = config.str("data_dir") + "/mail";
  return o;
}

ConfigSchema full_schema(std::vector<ModuleDescriptor> const& modules) {
  ConfigSchema schema;
  declare_kernel_config(schema);
  for (auto const& m : modules) {
    if (m.declare_config) m.declare_config(schema);
  }
  return schema;
}

}  // namespace bookspace::app
