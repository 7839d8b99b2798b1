#include "core/event_reads.hpp"

#include "core/prepared.hpp"

#include <soci/soci.h>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace bookspace::core {

namespace {

constexpr std::string_view select_offset_sqlite_sql = "SELECT seq FROM event_offsets WHERE consumer = :c";
constexpr std::string_view select_offset_pg_sql =
    "SELECT seq FROM event_offsets WHERE consumer = :c FOR UPDATE SKIP LOCKED";
constexpr std::string_view head_sql = "SELECT MAX(seq) FROM events";
constexpr std::string_view first_since_sql = "SELECT MIN(seq) FROM events WHERE occurred_at >= :since";
constexpr std::string_view peek_sql = "SELECT COUNT(*) FROM events WHERE seq > :seq";
constexpr std::string_view peek_type_sql =
    "SELECT seq FROM events WHERE type = :type AND seq > :seq ORDER BY type, seq LIMIT 1";
constexpr std::string_view select_events_sql =
    "SELECT seq, id, type, aggregate_id, payload, occurred_at FROM events"
    " WHERE seq > :seq ORDER BY seq LIMIT :n";
constexpr std::string_view select_type_events_sql =
    "SELECT seq, id, type, aggregate_id, payload, occurred_at FROM events"
    " WHERE type = :type AND seq > :seq AND seq <= :head ORDER BY type, seq LIMIT :n";

/// One row of `events`, and the values a query of them is run with.
struct EventRowVars {
  std::string type;  // in: the type asked for
  long long after = 0, head = 0, n = 0;
  long long seq = 0, occurred_at = 0;  // out
  std::string id, type_out, aggregate_id, payload;
};

void bind_event_row(soci::statement& st, EventRowVars& v) {
  st.exchange(soci::into(v.seq));
  st.exchange(soci::into(v.id));
  st.exchange(soci::into(v.type_out));
  st.exchange(soci::into(v.aggregate_id));
  st.exchange(soci::into(v.payload));
  st.exchange(soci::into(v.occurred_at));
}

Event event_of(EventRowVars const& v) {
  Event e;
  e.seq = v.seq;
  e.id = v.id;
  e.type = v.type_out;
  e.aggregate_id = v.aggregate_id;
  e.payload = boost::json::parse(v.payload);
  e.occurred_at = v.occurred_at;
  return e;
}

/// One number that may be NULL (MAX, MIN, a row that may be missing), from a query of one value.
struct NumberVars {
  std::string text;  // in
  long long in = 0;  // in
  long long value = 0;
  soci::indicator ind = soci::i_null;
};

}  // namespace

long long head_of(soci::session& sql) {
  auto& q = prepared<NumberVars>(
      sql, head_sql, [](soci::statement& st, NumberVars& v) { st.exchange(soci::into(v.value, v.ind)); });
  if (!q.run() || q.vars.ind == soci::i_null) return 0;
  return q.vars.value;
}

Batch read_batch(soci::session& sql, EventTypes const& types, long long after, std::size_t limit) {
  Batch batch;
  const long long n = static_cast<long long>(limit);
  auto collect = [&batch](EventRowVars const& row) { batch.events.push_back(event_of(row)); };
  if (types.empty()) {
    auto& q = prepared<EventRowVars>(sql, select_events_sql, [](soci::statement& st, EventRowVars& v) {
      bind_event_row(st, v);
      st.exchange(soci::use(v.after));
      st.exchange(soci::use(v.n));
    });
    q.vars.after = after;
    q.vars.n = n;
    q.run_each(collect);
    batch.covered = batch.events.empty() ? after : batch.events.back().seq;
    return batch;
  }
  // Each type by the (type, seq) index up to one head read in this snapshot, then merged.
  const long long head = head_of(sql);
  auto& q = prepared<EventRowVars>(sql, select_type_events_sql, [](soci::statement& st, EventRowVars& v) {
    bind_event_row(st, v);
    st.exchange(soci::use(v.type));
    st.exchange(soci::use(v.after));
    st.exchange(soci::use(v.head));
    st.exchange(soci::use(v.n));
  });
  for (auto const& type : types) {
    q.vars.type = type;
    q.vars.after = after;
    q.vars.head = head;
    q.vars.n = n;
    q.run_each(collect);
  }
  std::sort(batch.events.begin(), batch.events.end(),
            [](Event const& a, Event const& b) { return a.seq < b.seq; });
  if (batch.events.size() >= limit) {
    batch.events.resize(limit);
    batch.covered = batch.events.back().seq;  // the next batch starts after the last one read
  } else {
    batch.covered = std::max(head, after);
  }
  return batch;
}

std::optional<long long> first_seq_since(soci::session& sql, std::int64_t since) {
  long long first = 0;
  soci::indicator ind = soci::i_null;
  sql << first_since_sql, soci::use(static_cast<long long>(since)), soci::into(first, ind);
  if (!sql.got_data() || ind == soci::i_null) return std::nullopt;
  return first;
}

bool events_after(soci::session& sql, EventTypes const& types, std::int64_t offset) {
  if (offset < 0) return true;
  if (types.empty()) {
    auto& q = prepared<NumberVars>(sql, peek_sql, [](soci::statement& st, NumberVars& v) {
      st.exchange(soci::use(v.in));
      st.exchange(soci::into(v.value, v.ind));
    });
    q.vars.in = offset;
    return q.run() && q.vars.value != 0;
  }
  auto& q = prepared<NumberVars>(sql, peek_type_sql, [](soci::statement& st, NumberVars& v) {
    st.exchange(soci::use(v.text));
    st.exchange(soci::use(v.in));
    st.exchange(soci::into(v.value, v.ind));
  });
  for (auto const& type : types) {
    q.vars.text = type;
    q.vars.in = offset;
    if (q.run()) return true;
  }
  return false;
}

std::optional<long long> locked_offset(soci::session& sql, Dialect dialect, std::string const& consumer) {
  auto& q = prepared<NumberVars>(
      sql, dialect == Dialect::postgresql ? select_offset_pg_sql : select_offset_sqlite_sql,
      [](soci::statement& st, NumberVars& v) {
        st.exchange(soci::use(v.text));
        st.exchange(soci::into(v.value, v.ind));
      });
  q.vars.text = consumer;
  if (!q.run()) return std::nullopt;
  return q.vars.value;
}

}  // namespace bookspace::core
