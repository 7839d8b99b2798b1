#pragma once

#include "app/module.hpp"
#include "core/async.hpp"

#include <bookspace/documents/events.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::documents {

/// The documents module: documents with immutable versions, optimistic concurrency, shares,
/// comments and a trash. Depends on auth. See docs/modules/documents.md.
app::ModuleDescriptor documents_module();

/// What a user may do with a document. Ordered: each role includes the ones before it.
enum class Role { none, viewer, editor, owner };

std::string_view to_string(Role role);
/// The role `to_string` names ("owner", "editor", "viewer"); anything else is Role::none.
Role role_from_string(std::string_view text);

/// The read-access check other modules build on (files' attachments, realtime): the same
/// answer the documents routes give, as of now — a revoked share or a trashed document is
/// `Role::none` on the next call. Provided through the ServiceRegistry.
class Access {
 public:
  virtual ~Access() = default;
  /// The user's role on a live (not trashed) document; Role::none when they may not read it
  /// or it does not exist. Administrators have no implicit access.
  virtual core::Awaitable<Role> role(std::string document_id, std::string user_id) = 0;
  /// Everyone who may read the live document (owner first); empty when there is none.
  virtual core::Awaitable<std::vector<std::string>> readers(std::string document_id) = 0;
};

/// A read-only export of documents for other modules' background work (files' export job,
/// search's reindex). Blocking calls, for threads that may block (a job or scheduler thread, a
/// CLI command), never an io thread. Each reads on a connection of its own — in process the
/// module's pool, in a split deployment the documents process over HTTP — so both mean the same:
/// committed state as of the call, never part of a transaction of the caller. Provided through
/// the ServiceRegistry.
class Catalog {
 public:
  virtual ~Catalog() = default;
  /// Ids of the live documents `user_id` may read, in id order, after `after_id`, at most `n`.
  virtual std::vector<std::string> readable_ids(std::string const& user_id, std::string const& after_id,
                                                int n) = 0;
  /// The document with its content, tags and readers as `user_id` may read it now; nullopt when
  /// they may not (or it is trashed or gone).
  virtual std::optional<Snapshot> read(std::string const& id, std::string const& user_id) = 0;
  /// For system work that sees everything (search's reindex): ids of all live documents in id
  /// order after `after_id`, and one live document with its readers, whoever they are.
  virtual std::vector<std::string> live_ids(std::string const& after_id, int n) = 0;
  virtual std::optional<Snapshot> snapshot(std::string const& id) = 0;
};

/// The events this module publishes: <bookspace/documents/events.hpp>.

}  // namespace bookspace::documents
