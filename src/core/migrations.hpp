#pragma once

#include "core/clock.hpp"
#include "core/database.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {

class Logger;

/// One file of migrations/<module>/, compiled into the binary: `NNNN_<what>.sql`, or a
/// dialect-specific `NNNN_<what>.sqlite.sql` / `NNNN_<what>.postgres.sql` that replaces it.
struct MigrationFile {
  std::string_view name;
  std::string_view sql;
};

struct MigrationSet {
  std::string module;
  std::span<const MigrationFile> files;
};

/// A migration chosen for one dialect.
struct Migration {
  std::string module;
  int version = 0;
  std::string name;
  std::string sql;
  std::string checksum;  ///< SHA-256 hex of `sql`
};

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Resolves the files of each set for `dialect`, ordered by version. Throws MigrationError for
/// a badly named file or two files with one version.
std::vector<Migration> plan_migrations(std::vector<MigrationSet> const& sets, Dialect dialect);

struct MigrationStatus {
  std::vector<Migration> applied_now;
  std::size_t already_applied = 0;
};

/// Applies what is missing, each migration in its own transaction, under a lock that
/// serialises concurrent instances (advisory lock on PostgreSQL, the write lock on SQLite).
/// A migration whose checksum differs from the applied one refuses to start: MigrationError.
MigrationStatus apply_migrations(soci::session& sql, Dialect dialect, std::vector<Migration> const& plan,
                                 Clock const& clock, Logger& log);

/// The planned migrations not yet applied (empty when the schema is current). Throws on drift.
std::vector<Migration> pending_migrations(soci::session& sql, Dialect dialect,
                                          std::vector<Migration> const& plan);

}  // namespace bookspace::core
