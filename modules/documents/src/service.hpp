#pragma once

// The documents module's use cases: access checks, transactions and events around the
// repository (store.hpp). Transport-free: routes.cpp turns HTTP into these calls.

#include "store.hpp"

#include "core/async.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
class EventLog;
class IdGenerator;
}  // namespace bookspace::core
namespace bookspace::auth {
class Accounts;
}
namespace soci {
class session;
}

namespace bookspace::documents {

struct Changes {
  std::optional<std::string> title;
  std::optional<std::string> content;
  std::optional<std::vector<std::string>> tags;
};

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  core::IdGenerator& ids;
  auth::Accounts& accounts;  ///< a user exists before a document is shared with them
};

/// Every method checks access first: a document the user may not read is ApiError(not_found),
/// one they may read but not change is ApiError(forbidden). Changes publish their event in
/// the same transaction.
class Service {
 public:
  explicit Service(ServiceDeps deps) : deps_(deps) {}

  core::Awaitable<Document> create(std::string user, std::string title, std::string content,
                                   std::vector<std::string> tags);
  core::Awaitable<Document> get(std::string id, std::string user);
  core::Awaitable<std::vector<Document>> list(ListQuery query);
  /// `if_match`: the header as sent; nullopt → precondition_required, stale → precondition_failed.
  core::Awaitable<Document> update(std::string id, std::string user, std::optional<std::string> if_match,
                                   Changes changes);
  core::Awaitable<Document> restore_version(std::string id, std::string user,
                                            std::optional<std::string> if_match, long long version);
  /// Owner only: into the trash.
  core::Awaitable<void> trash(std::string id, std::string user);

  core::Awaitable<std::vector<Version>> versions(std::string id, std::string user, long long before, int n);
  core::Awaitable<Version> version(std::string id, std::string user, long long version);

  core::Awaitable<std::vector<Share>> shares(std::string id, std::string user, std::string after, int n);
  core::Awaitable<Share> share(std::string id, std::string user, std::string with, Role role);
  core::Awaitable<void> unshare(std::string id, std::string user, std::string with);

  core::Awaitable<std::vector<Comment>> comments(std::string id, std::string user, std::string after, int n);
  core::Awaitable<Comment> add_comment(std::string id, std::string user, std::string body);
  core::Awaitable<void> delete_comment(std::string id, std::string user, std::string comment);

  core::Awaitable<std::vector<Trashed>> trash_list(std::string user, std::optional<long long> key,
                                                   std::string after, int n);
  core::Awaitable<Document> untrash(std::string id, std::string user);
  core::Awaitable<void> purge(std::string id, std::string user);
  /// Purges up to `n` documents trashed before `cutoff` (the background task); returns how many.
  std::size_t purge_expired(soci::session& sql, long long cutoff, int n);

 private:
  ServiceDeps deps_;
};

}  // namespace bookspace::documents
