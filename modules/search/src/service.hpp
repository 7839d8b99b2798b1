#pragma once

// The search module's use cases: queries (through the engine's SearchIndex) and the durable
// consumer that keeps the index in step with documents' and files' events. Transport-free.

#include "index.hpp"

#include "core/async.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
class EventLog;
struct Event;
class Histogram;
class Tx;
}  // namespace bookspace::core

namespace bookspace::documents {
class Catalog;
}
namespace bookspace::files {
class Catalog;
}

namespace bookspace::search {

/// The consumer that keeps the index; a reindex holds it off while it writes.
inline constexpr std::string_view consumer_name = "search.index";

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  SearchIndex& index;
  core::Histogram& latency;                 ///< seconds per query
  documents::Catalog* documents = nullptr;  ///< null without the documents module
  files::Catalog* files = nullptr;          ///< null without the files module
};

struct ReindexResult {
  std::int64_t documents = 0, files = 0, texts_requested = 0, removed = 0;
};

class Service {
 public:
  explicit Service(ServiceDeps deps) : deps_(deps) {}

  /// Up to `limit + 1` hits (the extra one says a next page exists) readable by `user` now.
  /// An unparsable query → validation_failed on `q`; one with nothing to look for → no hits.
  core::Awaitable<std::vector<Hit>> search(std::string user, std::string q, std::optional<Kind> kind,
                                           std::optional<After> after, int limit);

  /// The durable consumer of documents.*.v1 and files.*.v1 (in the consumer's transaction).
  void follow(core::Tx& tx, core::Event const& event);

  /// Rebuilds the index from the owning modules' catalogs while searches go on: every live
  /// document and every file written again (in batches, each holding the consumer off so the
  /// two never interleave), files without text asked for it again (with jobs), then whatever
  /// neither the rebuild nor the consumer wrote since it began removed. Blocking, on `sql`;
  /// `stop` is asked between batches.
  /// `progress`, when set, hears the counts after every batch.
  ReindexResult reindex(soci::session& sql, std::function<bool()> const& stop,
                        std::function<void(ReindexResult const&)> const& progress = {});

 private:
  ServiceDeps deps_;
};

}  // namespace bookspace::search
