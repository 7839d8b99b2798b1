#include "core/database.hpp"

#include "core/error.hpp"
#include "core/group_commit.hpp"
#include "core/log.hpp"
#include "core/prepared.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sqlite3.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

namespace bookspace::core {

std::string_view to_string(Dialect dialect) {
  return dialect == Dialect::sqlite ? "sqlite" : "postgresql";
}

namespace {

std::string quote_conninfo(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

// SOCI 4.0 parses its connection string as key=value pairs and garbles URIs, so the URL is
// turned into libpq's keyword/value form here (query parameters such as sslmode carry over).
std::string libpq_conninfo(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw std::invalid_argument("malformed postgresql URL");
  std::string out;
  auto add = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += quote_conninfo(value);
  };
  add("host", parsed->encoded_host().empty() ? "" : std::string(parsed->host()));
  add("port", parsed->port());
  add("user", std::string(parsed->user()));
  add("password", std::string(parsed->password()));
  std::string path = parsed->path();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  add("dbname", path);
  bool options = false;
  for (auto const& param : parsed->params()) {
    add(param.key, param.value);
    options = options || param.key == "options";
  }
  // The server's NOTICEs (a `CREATE … IF NOT EXISTS` that skipped) would reach stderr through
  // libpq as lines that are not our JSON log; warnings and errors still arrive.
  if (!options) add("options", "-c client_min_messages=warning");
  return out;
}

DatabaseUrl parse_database_url(std::string_view url) {
  if (url.starts_with("sqlite://")) {
    std::string path(url.substr(9));
    if (path.empty()) throw std::invalid_argument("sqlite URL has no file path");
    if (path.find('?') != std::string::npos)
      throw std::invalid_argument("sqlite URL takes no query parameters");
    return {Dialect::sqlite, path};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return {Dialect::postgresql, libpq_conninfo(url)};
  }
  throw std::invalid_argument("must start with sqlite:// or postgresql://");
}

std::string redact_database_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || !parsed->has_password()) return std::string(url);
  boost::urls::url copy(*parsed);
  copy.set_password("***");
  return std::string(copy.buffer());
}

void exec_script(soci::session& sql, Dialect dialect, std::string_view script) {
  std::string text(script);
  if (dialect == Dialect::sqlite) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
    char* message = nullptr;
    if (sqlite_api::sqlite3_exec(backend->conn_, text.c_str(), nullptr, nullptr, &message) != 0) {
      std::string reason = message ? message : "unknown error";
      sqlite_api::sqlite3_free(message);
      throw std::runtime_error(reason);
    }
    return;
  }
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
  PGresult* result = PQexec(backend->conn_, text.c_str());
  const auto status = PQresultStatus(result);
  std::string reason = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(reason);
}

namespace {

/// A compiled SQLite statement kept in the connection's StatementCache.
struct KeptStatement final : StatementCache::Entry {
  sqlite_api::sqlite3_stmt* stmt = nullptr;
  KeptStatement() = default;
  KeptStatement(KeptStatement const&) = delete;
  KeptStatement& operator=(KeptStatement const&) = delete;
  ~KeptStatement() override { sqlite_api::sqlite3_finalize(stmt); }
};

}  // namespace

void exec_sqlite_kept(soci::session& sql, std::string_view const& statement) {
  auto* conn = static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
  auto& cache = statement_cache(sql);
  auto* kept = static_cast<KeptStatement*>(cache.find(&statement));
  if (kept == nullptr) {
    auto fresh = std::make_unique<KeptStatement>();
    if (sqlite_api::sqlite3_prepare_v2(conn, statement.data(), static_cast<int>(statement.size()),
                                       &fresh->stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite_api::sqlite3_errmsg(conn));
    kept = static_cast<KeptStatement*>(cache.add(&statement, std::move(fresh)));
  }
  const int rc = sqlite_api::sqlite3_step(kept->stmt);
  sqlite_api::sqlite3_reset(kept->stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw std::runtime_error(sqlite_api::sqlite3_errmsg(conn));
}

void track_wal_frames(soci::session& sql, int* frames) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
  sqlite_api::sqlite3_wal_hook(
      backend->conn_,
      [](void* out, sqlite_api::sqlite3*, char const*, int n) {
        *static_cast<int*>(out) = n;
        return SQLITE_OK;
      },
      frames);
}

void release_statement(soci::statement& statement, bool sqlite) {
  if (!sqlite) return;
  // No RTTI in Debian's SOCI: the caller says which backend made the statement.
  sqlite_api::sqlite3_reset(static_cast<soci::sqlite3_statement_backend*>(statement.get_backend())->stmt_);
}

std::unique_ptr<Session> open_session(DatabaseUrl const& url, DatabaseOptions const& options) {
  if (url.dialect == Dialect::postgresql) {
    return std::make_unique<Session>(soci::postgresql, url.target);
  }
  // Every connection is used by one thread at a time (a pool worker, the group-commit writer,
  // the scheduler), so SQLite's per-call connection mutex is pure cost: a list page calls the
  // column API a few hundred times, each a lock and an unlock. Multi-thread mode drops it. It
  // must be set before SQLite initializes; if it already has, this call fails and nothing changes.
  // Memory statistics, also on by default, put a process-wide mutex around every allocation
  // SQLite makes: the writer and the readers of a busy server queue on it.
  static const bool multithread = [] {
    return sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK &&
           sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  }();
  (void)multithread;
  std::filesystem::path path(url.target);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::string quoted = "db=\"" + url.target + "\"";
  auto session = std::make_unique<Session>(soci::sqlite3, quoted);
  // busy_timeout first: switching to WAL needs a lock another connection may hold.
  exec_script(*session, Dialect::sqlite, "PRAGMA busy_timeout=" + std::to_string(options.busy_timeout_ms));
  // Several connections opening a fresh database at once: the switch to WAL can be refused with
  // "database is locked" without the busy handler being asked, so it is retried here, within
  // the busy timeout.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  for (;;) {
    try {
      exec_script(*session, Dialect::sqlite, "PRAGMA journal_mode=WAL");
      break;
    } catch (std::exception const& e) {
      const std::string what = e.what();
      const bool busy = what.find("locked") != std::string::npos || what.find("busy") != std::string::npos;
      if (!busy || std::chrono::steady_clock::now() > give_up) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  exec_script(
      *session, Dialect::sqlite,
      "PRAGMA synchronous=" + options.sqlite_synchronous +
          "; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-" +
          std::to_string(options.sqlite_cache_kib) + "; PRAGMA journal_size_limit=" +
          std::to_string(options.sqlite_wal_limit_mib > 0 ? options.sqlite_wal_limit_mib * 1048576LL : -1LL) +
          ";");
  return session;
}

void run_transaction(soci::session& sql, Dialect dialect, std::function<void(Tx&)> const& body) {
  exec_script(sql, dialect, dialect == Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  Tx tx(sql, dialect);
  try {
    body(tx);
    exec_script(sql, dialect, "COMMIT");
  } catch (...) {
    try {
      exec_script(sql, dialect, "ROLLBACK");
    } catch (std::exception const&) {
      // The connection is gone; the server rolls back on its own.
    }
    throw;
  }
  for (auto& hook : tx.hooks_) hook();
}

Database::Database(DatabaseOptions options, Logger& log)
    : options_(std::move(options)), url_(parse_database_url(options_.url)), log_(log) {
  for (std::size_t i = 0; i < options_.pool_size; ++i) {
    sessions_.push_back(open_session(url_, options_));
  }
  spare_ = open_session(url_, options_);
  pool_ = std::make_unique<WorkerPool>("db", options_.pool_size, options_.max_queue);
  if (url_.dialect == Dialect::sqlite && options_.sqlite_group_commit) {
    // Checkpoints happen in checkpoint(), on the scheduler's connection, never in a request's
    // COMMIT (an automatic checkpoint of a large WAL stalled writers for most of a second).
    for (auto& s : sessions_) exec_script(*s, Dialect::sqlite, "PRAGMA wal_autocheckpoint=0");
    auto writer = open_session(url_, options_);
    exec_script(*writer, Dialect::sqlite, "PRAGMA wal_autocheckpoint=0");
    committer_ =
        std::make_unique<GroupCommitter>(std::move(writer), log_, options_.max_queue,
                                         static_cast<std::int64_t>(options_.sqlite_wal_limit_mib) * 1048576);
  }
  log_.debug("database open", {{"dialect", to_string(url_.dialect)}, {"pool_size", options_.pool_size}});
}

Database::~Database() {
  stop();
}

void Database::stop() {
  if (pool_) pool_->stop();
  if (committer_) committer_->stop();
}

std::pair<std::uint64_t, std::uint64_t> Database::group_commits() const {
  if (!committer_) return {0, 0};
  return {committer_->batches(), committer_->transactions()};
}

int Database::checkpoint(soci::session& sql) {
  int busy = 0, log_frames = 0, checkpointed = 0;
  sql << "PRAGMA wal_checkpoint(PASSIVE)", soci::into(busy), soci::into(log_frames), soci::into(checkpointed);
  return log_frames - checkpointed;
}

Awaitable<void> Database::run_grouped(std::function<void(Tx&)> body) {
  std::exception_ptr failure;
  bool accepted = true;
  co_await suspend([&](Resumer const& resume) {
    accepted = committer_->submit({std::move(body), [&failure, resume](std::exception_ptr const& error) {
                                     failure = error;
                                     resume();
                                   }});
    if (!accepted) resume();
  });
  if (!accepted) {
    Error error{ErrorCode::overloaded, "The server is busy; try again shortly.", {}};
    error.retry_after_s = 1;
    throw ApiError(std::move(error));
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      rethrow_mapped();
    }
  }
}

bool Database::submit(std::string what, std::function<void(soci::session&)> work) {
  return pool_->try_submit([this, what = std::move(what), work = std::move(work)](std::size_t worker) {
    try {
      work(session_for(worker));
    } catch (std::exception const& e) {
      log_.error("background database work failed", {{"work", what}, {"error", e.what()}});
    }
  });
}

void Database::rethrow_mapped(std::optional<std::size_t> worker) {
  try {
    throw;
  } catch (soci::sqlite3_soci_error const& e) {
    if (e.result() != SQLITE_FULL) throw;
    if (storage_full_) storage_full_();
    Error error{ErrorCode::insufficient_storage, "The server's disk is full; retry later.", {}};
    error.retry_after_s = 30;
    throw ApiError(std::move(error));
  } catch (soci::postgresql_soci_error const& e) {
    // Class 08 (connection exception), 57P0x (the server shutting down or starting) and a
    // connection found closed: the database is unavailable, not the request wrong.
    const std::string state = e.sqlstate();
    const bool lost = e.get_error_category() == soci::soci_error::connection_error ||
                      state.starts_with("08") || state.starts_with("57P") || state == "53300" ||
                      (worker && !sessions_.at(*worker)->is_connected());
    if (!lost && state != "53100") throw;
    Error error{
        ErrorCode::overloaded,
        lost ? "The database is unavailable; retry shortly." : "The database's disk is full; retry later.",
        {}};
    error.retry_after_s = lost ? 1 : 30;
    throw ApiError(std::move(error));
  } catch (soci::soci_error const& e) {
    // Raised before a statement ran (reconnecting failed, for one).
    const bool lost = url_.dialect == Dialect::postgresql &&
                      (e.get_error_category() == soci::soci_error::connection_error ||
                       (worker && !sessions_.at(*worker)->is_connected()));
    if (!lost) throw;
    Error error{ErrorCode::overloaded, "The database is unavailable; retry shortly.", {}};
    error.retry_after_s = 1;
    throw ApiError(std::move(error));
  }
}

void Database::wait_on_pool(std::function<void(soci::session&)> work) {
  // Shared with the pool thread: it may still be inside set_value when the waiter wakes.
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  const bool queued = pool_->try_submit([this, &work, done](std::size_t worker) {
    try {
      try {
        work(session_for(worker));
      } catch (...) {
        rethrow_mapped(worker);
      }
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  if (!queued) {
    Error error{ErrorCode::overloaded, "The server is busy; try again shortly.", {}};
    error.retry_after_s = 1;
    throw ApiError(std::move(error));
  }
  finished.get();
}

soci::session& Database::spare_session() {
  return *spare_;
}

soci::session& Database::session_for(std::size_t worker) {
  auto& session = *sessions_.at(worker);
  if (url_.dialect == Dialect::postgresql && !session.is_connected()) {
    log_.warn("database connection lost; reconnecting", {{"worker", worker}});
    statement_cache(session).clear();  // its prepared statements died with the connection
    session.reconnect();
  }
  return session;
}

}  // namespace bookspace::core
