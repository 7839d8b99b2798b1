#include "core/migrations.hpp"

#include "core/ids.hpp"

#include "core/log.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>
#include <sodium.h>

#include <algorithm>
#include <map>

namespace bookspace::core {

namespace {

constexpr std::string_view create_table_sql =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (module, version))";
constexpr std::string_view select_applied_sql = "SELECT module, version, checksum FROM schema_migrations";
constexpr std::string_view insert_applied_sql =
    "INSERT INTO schema_migrations (module, version, name, checksum, applied_at)"
    " VALUES (:module, :version, :name, :checksum, :applied_at)";
constexpr std::string_view count_applied_sql =
    "SELECT COUNT(*) FROM schema_migrations WHERE module = :module AND version = :version";
// Any constant works; it only has to be the same for every instance of BookSpace.
constexpr std::string_view pg_lock_sql = "SELECT pg_advisory_lock(4778348151002100001)";
constexpr std::string_view pg_unlock_sql = "SELECT pg_advisory_unlock(4778348151002100001)";

struct ParsedName {
  int version;
  std::string stem;
  std::string dialect;  // "", "sqlite" or "postgres"
};

ParsedName parse_name(std::string_view module, std::string_view name) {
  auto fail = [&](std::string_view why) {
    throw MigrationError("migrations/" + std::string(module) + "/" + std::string(name) + ": " +
                         std::string(why));
  };
  if (name.size() < 10 || !name.ends_with(".sql")) fail("expected NNNN_<what>.sql");
  for (int i = 0; i < 4; ++i) {
    if (name[static_cast<std::size_t>(i)] < '0' || name[static_cast<std::size_t>(i)] > '9')
      fail("name must start with a four-digit version");
  }
  if (name[4] != '_') fail("expected NNNN_<what>.sql");
  ParsedName parsed{std::stoi(std::string(name.substr(0, 4))), std::string(name.substr(5)), ""};
  parsed.stem.resize(parsed.stem.size() - 4);
  for (std::string_view dialect : {"sqlite", "postgres"}) {
    std::string suffix = "." + std::string(dialect);
    if (parsed.stem.ends_with(suffix)) {
      parsed.stem.resize(parsed.stem.size() - suffix.size());
      parsed.dialect = dialect;
    }
  }
  if (parsed.version <= 0) fail("versions start at 0001");
  return parsed;
}

using AppliedMap = std::map<std::pair<std::string, int>, std::string>;

AppliedMap read_applied(soci::session& session) {
  AppliedMap applied;
  soci::rowset<soci::row> rows = (session.prepare << select_applied_sql);
  for (auto const& row : rows) {
    applied[{sql::get_text(row, 0), static_cast<int>(sql::get_int(row, 1))}] = sql::get_text(row, 2);
  }
  return applied;
}

void check_drift(AppliedMap const& applied, std::vector<Migration> const& plan) {
  for (auto const& m : plan) {
    auto it = applied.find({m.module, m.version});
    if (it != applied.end() && it->second != m.checksum) {
      throw MigrationError("migration " + m.module + "/" + m.name +
                           " was changed after it was applied (checksum in database " +
                           it->second.substr(0, 12) + "…, in this binary " + m.checksum.substr(0, 12) +
                           "…); refusing to start. Add a new migration instead of editing one.");
    }
  }
  for (auto const& entry : applied) {
    auto const& key = entry.first;  // not a structured binding: clang 14 cannot capture those
    const bool known = std::any_of(plan.begin(), plan.end(), [&](Migration const& m) {
      return m.module == key.first && m.version == key.second;
    });
    const bool module_known =
        std::any_of(plan.begin(), plan.end(), [&](Migration const& m) { return m.module == key.first; });
    if (module_known && !known) {
      throw MigrationError("the database has migration " + key.first + "/" + std::to_string(key.second) +
                           " which this binary does not know; is it older than the database?");
    }
  }
}

}  // namespace

std::vector<Migration> plan_migrations(std::vector<MigrationSet> const& sets, Dialect dialect) {
  const std::string wanted = dialect == Dialect::sqlite ? "sqlite" : "postgres";
  std::vector<Migration> plan;
  for (auto const& set : sets) {
    std::map<int, Migration> generic, specific;
    for (auto const& file : set.files) {
      ParsedName parsed = parse_name(set.module, file.name);
      if (!parsed.dialect.empty() && parsed.dialect != wanted) continue;
      auto& target = parsed.dialect.empty() ? generic : specific;
      if (target.contains(parsed.version)) {
        throw MigrationError("migrations/" + set.module + ": two files for version " +
                             std::to_string(parsed.version));
      }
      target[parsed.version] =
          Migration{set.module, parsed.version, std::string(file.name), std::string(file.sql), ""};
    }
    for (auto& [version, m] : specific) generic[version] = std::move(m);
    int expected = 1;
    for (auto& [version, m] : generic) {
      if (version != expected) {
        throw MigrationError("migrations/" + set.module + ": version " + std::to_string(expected) +
                             " is missing");
      }
      ++expected;
      m.checksum = sha256_hex(m.sql);
      plan.push_back(std::move(m));
    }
  }
  return plan;
}

std::vector<Migration> pending_migrations(soci::session& sql, Dialect dialect,
                                          std::vector<Migration> const& plan) {
  exec_script(sql, dialect, create_table_sql);
  AppliedMap applied = read_applied(sql);
  check_drift(applied, plan);
  std::vector<Migration> pending;
  for (auto const& m : plan) {
    if (!applied.contains({m.module, m.version})) pending.push_back(m);
  }
  return pending;
}

MigrationStatus apply_migrations(soci::session& sql, Dialect dialect, std::vector<Migration> const& plan,
                                 Clock const& clock, Logger& log) {
  MigrationStatus status;
  if (dialect == Dialect::postgresql) {
    exec_script(sql, dialect, pg_lock_sql);
  }
  try {
    // In a transaction of its own: on SQLite that is BEGIN IMMEDIATE, which waits for the write
    // lock. As a bare statement it would read the schema first and then need to write; when
    // another instance created the table meanwhile, SQLite refuses that upgrade at once
    // ("database is locked", SQLITE_BUSY_SNAPSHOT) instead of waiting.
    run_transaction(sql, dialect, [&](Tx&) {
      exec_script(sql, dialect, create_table_sql);
      check_drift(read_applied(sql), plan);
    });
    for (auto const& m : plan) {
      bool applied_here = false;
      run_transaction(sql, dialect, [&](Tx&) {
        // Checked again under the lock: another instance may have applied it meanwhile.
        int count = 0;
        sql << count_applied_sql, soci::use(m.module), soci::use(m.version), soci::into(count);
        if (count > 0) return;
        try {
          exec_script(sql, dialect, m.sql);
        } catch (std::exception const& e) {
          throw MigrationError("migration " + m.module + "/" + m.name + " failed: " + e.what());
        }
        const long long now = clock.now_ms();
        sql << insert_applied_sql, soci::use(m.module), soci::use(m.version), soci::use(m.name),
            soci::use(m.checksum), soci::use(now);
        applied_here = true;
      });
      if (applied_here) {
        log.info("migration applied", {{"module", m.module}, {"migration", m.name}});
        status.applied_now.push_back(m);
      } else {
        ++status.already_applied;
      }
    }
  } catch (...) {
    if (dialect == Dialect::postgresql) {
      try {
        exec_script(sql, dialect, pg_unlock_sql);
      } catch (std::exception const&) {
        // Lost connection: the lock went with it.
      }
    }
    throw;
  }
  if (dialect == Dialect::postgresql) {
    exec_script(sql, dialect, pg_unlock_sql);
  }
  return status;
}

}  // namespace bookspace::core
