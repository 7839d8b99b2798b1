#pragma once

// The search module's use cases: queries (through the engine's SearchIndex) and the durable
// consumer that keeps the index in step with documents' and files' events. Transport-free.

#include "index.hpp"

#include "core/async.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Database;
struct Event;
class Histogram;
class Tx;
}  // namespace bookspace::core

namespace bookspace::search {

struct ServiceDeps {
  core::Database& db;
  SearchIndex& index;
  core::Histogram& latency;  ///< seconds per query
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

 private:
  ServiceDeps deps_;
};

}  // namespace bookspace::search
