#pragma once

// How the event log reads `events` and `event_offsets` (event_log.cpp is how it runs its
// consumers). Kernel-private. The statements every commit sets off — each consumer's and
// watch's look for new events, its batch read and its offset — are prepared once per
// connection (core::prepared): parsing them anew per wake-up cost a quarter of a durable
// write's CPU (docs/performance.md, "Against the Fastify peer").

#include "core/event.hpp"
#include "core/tx.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::core {

/// The last seq of the log, 0 when it is empty.
long long head_of(soci::session& sql);

/// The first seq of an event that occurred at or after `since`, if any is still in the log.
std::optional<long long> first_seq_since(soci::session& sql, std::int64_t since);

/// What a batch reads: up to `limit` events after `after` of `types` (empty: all), in seq
/// order, and how far that read covers the log (`covered`: every event of its types up to it is
/// read).
struct Batch {
  std::vector<Event> events;
  long long covered = 0;
};
Batch read_batch(soci::session& sql, EventTypes const& types, long long after, std::size_t limit);

/// The cheap read first: most wake-ups and polls find nothing, and need no write lock.
/// `offset` < 0: not known yet, so there may be events.
bool events_after(soci::session& sql, EventTypes const& types, std::int64_t offset);

/// A durable consumer's stored offset, locked for this transaction on PostgreSQL (FOR UPDATE
/// SKIP LOCKED); nullopt when another instance holds it.
std::optional<long long> locked_offset(soci::session& sql, Dialect dialect, std::string const& consumer);

}  // namespace bookspace::core
