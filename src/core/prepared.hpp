#pragma once

// Statements prepared once per connection and run again with new values (issue 10 item 2):
// SQLite keeps its compiled `sqlite3_stmt`, PostgreSQL a server-side prepared statement, so
// neither parses nor plans a hot statement again. For single-row lookups on hot routes:
//
//   struct FindNote { std::string id; std::string text; };          // inputs and outputs
//   auto& q = core::prepared<FindNote>(sql, find_note_sql, [](soci::statement& st, FindNote& v) {
//     st.exchange(soci::use(v.id));
//     st.exchange(soci::into(v.text));
//   });
//   q.vars.id = id;
//   if (!q.run()) return std::nullopt;                               // no row
//   return q.vars.text;
//
// Statements without results (INSERT, UPDATE, DELETE) take one line:
//
//   core::execute(sql, insert_note_sql, id, text);                  // bound in order; rows changed
//
// The SQL is the module's named constant (its address is the cache key: pass the constant, not
// a copy). The cache belongs to the connection the store function was handed, so it needs no
// lock; it holds at most 256 statements, and a statement that fails is dropped and prepared
// anew next time (PostgreSQL reconnects clear it).

#include <soci/soci.h>

#include <stdexcept>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>

namespace bookspace::core {

class StatementCache {
 public:
  struct Entry {
    virtual ~Entry() = default;
    std::type_info const* vars_type = nullptr;  ///< one query text, one Vars type (checked)
  };
  static constexpr std::size_t max_entries = 256;

  Entry* find(void const* key) {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : it->second.get();
  }
  Entry* add(void const* key, std::unique_ptr<Entry> entry) {
    if (entries_.size() >= max_entries) entries_.clear();  // unbounded SQL text: start over
    return (entries_[key] = std::move(entry)).get();
  }
  void forget(void const* key) { entries_.erase(key); }
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<void const*, std::unique_ptr<Entry>> entries_;
};

/// Ends a statement's execution without finalizing it (SQLite: sqlite3_reset; PostgreSQL has
/// nothing open once the result is read).
void release_statement(soci::statement& statement, bool sqlite);

/// A connection: a SOCI session and its prepared statements. core::open_session makes every
/// session of the process, so every `soci::session&` a store function is handed is one.
class Session final : public soci::session {
 public:
  template <class... Args>
  explicit Session(Args&&... args) : soci::session(std::forward<Args>(args)...) {}
  StatementCache statements;
};

/// The cache of the connection `sql`.
inline StatementCache& statement_cache(soci::session& sql) {
  return static_cast<Session&>(sql).statements;
}

template <class Vars>
class Prepared final : public StatementCache::Entry {
 public:
  Vars vars;

  /// Executes with the current `vars`; true when a row was fetched into them.
  bool run() {
    try {
      const bool row = statement_->execute(true);
      // The row is in `vars`; end the statement now, or on SQLite it would hold its read
      // transaction (and WAL snapshot) open until the next run.
      release_statement(*statement_, sqlite_);
      return row;
    } catch (...) {
      cache_->forget(key_);  // `this` is gone now: prepare again next time
      throw;
    }
  }

  /// Rows the last run changed (INSERT, UPDATE, DELETE).
  long long affected() const { return statement_->get_affected_rows(); }

  /// Executes with the current `vars` and calls `on_row(vars)` for each row fetched into them.
  template <class OnRow>
  void run_each(OnRow on_row) {
    try {
      if (statement_->execute(true)) {
        do {
          on_row(static_cast<Vars const&>(vars));
        } while (statement_->fetch());
      }
      release_statement(*statement_, sqlite_);
    } catch (...) {
      cache_->forget(key_);
      throw;
    }
  }

  template <class Bind>
  Prepared(soci::session& sql, std::string_view query, Bind& bind, StatementCache& cache, void const* key)
      : statement_(std::make_unique<soci::statement>(sql)),
        cache_(&cache),
        key_(key),
        sqlite_(sql.get_backend_name() == "sqlite3") {
    bind(*statement_, vars);
    statement_->alloc();
    statement_->prepare(std::string(query));
    statement_->define_and_bind();
  }

 private:
  std::unique_ptr<soci::statement> statement_;
  StatementCache* cache_;
  void const* key_;
  bool sqlite_;
};

/// The prepared statement of `query` on this connection, made on first use with `bind`, which
/// exchanges `use`/`into` of the Vars' members (see above).
template <class Vars, class Bind>
Prepared<Vars>& prepared(soci::session& sql, std::string_view query, Bind bind) {
  auto& cache = statement_cache(sql);
  void const* key = query.data();
  if (auto* found = cache.find(key)) {
    if (*found->vars_type != typeid(Vars)) throw std::logic_error("prepared: one query, two Vars types");
    return static_cast<Prepared<Vars>&>(*found);
  }
  auto entry = std::make_unique<Prepared<Vars>>(sql, query, bind, cache, key);
  entry->vars_type = &typeid(Vars);
  return static_cast<Prepared<Vars>&>(*cache.add(key, std::move(entry)));
}

/// Runs `query` (a named constant without results) prepared once per connection, with `values`
/// bound in order (strings, integers, doubles). Returns the number of rows it changed.
template <class... Values>
long long execute(soci::session& sql, std::string_view query, Values const&... values) {
  using Vars = std::tuple<std::decay_t<Values>...>;
  auto& q = prepared<Vars>(sql, query, [](soci::statement& st, Vars& vars) {
    std::apply([&st](auto&... each) { (st.exchange(soci::use(each)), ...); }, vars);
  });
  q.vars = Vars(values...);
  q.run();
  return q.affected();
}

}  // namespace bookspace::core
