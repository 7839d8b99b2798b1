#pragma once

// An event of the durable log and the shapes of its handlers, apart from the log that runs them
// (core/event_log.hpp): what the log's reads and its handlers need, without the log.

#include "core/clock.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bookspace::core {

class Tx;

/// One entry of the durable event log.
struct Event {
  std::int64_t seq = 0;
  std::string id;            ///< UUIDv7; handlers are idempotent by it
  std::string type;          ///< stable, versioned: "documents.updated.v1"
  std::string aggregate_id;  ///< the id of what changed
  boost::json::value payload;
  TimeMs occurred_at = 0;
};

/// The event types a consumer handles ("users.profile_updated.v1"…); empty: every type. A
/// consumer is woken only by commits of its types and reads only those (by index).
using EventTypes = std::vector<std::string>;
/// A durable consumer's handler: runs in the transaction that stores its offset.
using EventHandler = std::function<void(Tx& tx, Event const& event)>;
/// A watch's handler: after the commit, no transaction.
using WatchHandler = std::function<void(Event const& event)>;

}  // namespace bookspace::core
