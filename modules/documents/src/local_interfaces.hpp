#pragma once

// The module's public interfaces (Access, Catalog) in its own process, over its own pool. The
// stand-in (stand_in.hpp) carries the same interfaces over HTTP to other processes, and the
// internal routes (internal_routes.hpp) answer it from the same store reads.

#include <bookspace/documents/documents.hpp>

#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}
namespace bookspace::core {
class Database;
}

namespace bookspace::documents {

/// The live document with its content, tags and readers as `user_id` may read it; nullopt when
/// they may not (or it is trashed or gone).
std::optional<Snapshot> readable_snapshot(soci::session& sql, std::string const& id,
                                          std::string const& user_id);
/// The live document with its readers, whoever they are (system work).
std::optional<Snapshot> live_snapshot(soci::session& sql, std::string const& id);

class LocalAccess final : public Access {
 public:
  explicit LocalAccess(core::Database& db) : db_(db) {}
  core::Awaitable<Role> role(std::string document_id, std::string user_id) override;
  core::Awaitable<std::vector<std::string>> readers(std::string document_id) override;

 private:
  core::Database& db_;
};

/// Each call reads on a pool connection of its own and waits (Database::run_waiting).
class LocalCatalog final : public Catalog {
 public:
  explicit LocalCatalog(core::Database& db) : db_(db) {}
  std::vector<std::string> readable_ids(std::string const& user_id, std::string const& after_id,
                                        int n) override;
  std::optional<Snapshot> read(std::string const& id, std::string const& user_id) override;
  std::vector<std::string> live_ids(std::string const& after_id, int n) override;
  std::optional<Snapshot> snapshot(std::string const& id) override;

 private:
  core::Database& db_;
};

}  // namespace bookspace::documents
