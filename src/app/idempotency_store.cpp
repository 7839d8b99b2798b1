#include "app/idempotency_store.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

namespace bookspace::app {

namespace json = boost::json;

namespace {

constexpr std::string_view forget_expired_sql =
    "DELETE FROM idempotency_keys WHERE scope = :scope AND idem_key = :key"
    " AND (created_at < :expired OR (state = 'running' AND created_at < :stale))";
constexpr std::string_view insert_sql =
    "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, state, created_at)"
    " VALUES (:scope, :key, :fingerprint, 'running', :now) ON CONFLICT DO NOTHING";
constexpr std::string_view find_sql =
    "SELECT fingerprint, state, status, headers, body FROM idempotency_keys WHERE scope = :scope AND "
    "idem_key = :key";
constexpr std::string_view complete_sql =
    "UPDATE idempotency_keys SET state = 'done', status = :status, headers = :headers, body = :body,"
    " fingerprint = fingerprint || :digest WHERE scope = :scope AND idem_key = :key";
constexpr std::string_view release_sql =
    "DELETE FROM idempotency_keys WHERE scope = :scope AND idem_key = :key AND state = 'running'";
constexpr std::string_view prune_sql = "DELETE FROM idempotency_keys WHERE created_at < :expired";

}  // namespace

DatabaseIdempotencyStore::DatabaseIdempotencyStore(core::Database& db, core::Clock const& clock,
                                                   long long retention_ms, long long stale_ms)
    : db_(db), clock_(clock), retention_ms_(retention_ms), stale_ms_(stale_ms) {}

std::size_t DatabaseIdempotencyStore::prune(soci::session& sql) const {
  const long long expired = clock_.now_ms() - retention_ms_;
  soci::statement st = (sql.prepare << prune_sql, soci::use(expired));
  st.execute(true);
  return static_cast<std::size_t>(st.get_affected_rows());
}

core::Awaitable<DatabaseIdempotencyStore::Outcome> DatabaseIdempotencyStore::claim(std::string scope,
                                                                                   std::string key,
                                                                                   std::string fingerprint) {
  const long long now = clock_.now_ms();
  const long long expired = now - retention_ms_;
  const long long stale = now - stale_ms_;
  co_return co_await db_.transaction([&](core::Tx& tx) {
    tx.sql << forget_expired_sql, soci::use(scope), soci::use(key), soci::use(expired), soci::use(stale);
    soci::statement insert = (tx.sql.prepare << insert_sql, soci::use(scope), soci::use(key),
                              soci::use(fingerprint), soci::use(now));
    insert.execute(true);
    Outcome out;
    if (insert.get_affected_rows() == 1) return out;  // fresh
    soci::rowset<soci::row> rows = (tx.sql.prepare << find_sql, soci::use(scope), soci::use(key));
    for (auto const& row : rows) {
      // A streamed request's stored fingerprint is "<fingerprint>.<body digest>" once done.
      const std::string stored = core::sql::get_text(row, 0);
      const bool same =
          stored == fingerprint || (stored.size() > fingerprint.size() && stored.starts_with(fingerprint) &&
                                    stored[fingerprint.size()] == '.');
      if (!same) {
        out.claim = Claim::mismatch;
      } else if (core::sql::get_text(row, 1) == "running") {
        out.claim = Claim::running;
      } else {
        out.claim = Claim::replay;
        out.stored.status = static_cast<int>(core::sql::get_int(row, 2));
        const json::value headers = json::parse(core::sql::get_text(row, 3));
        for (auto const& h : headers.as_array()) {
          auto const& pair = h.as_array();
          out.stored.headers.emplace_back(pair.at(0).as_string(), pair.at(1).as_string());
        }
        out.stored.body = core::sql::get_text(row, 4);
        if (stored.size() > fingerprint.size()) out.body_digest = stored.substr(fingerprint.size() + 1);
      }
      return out;
    }
    out.claim = Claim::running;  // inserted and deleted by others meanwhile: treat as busy
    return out;
  });
}

core::Awaitable<void> DatabaseIdempotencyStore::complete(std::string scope, std::string key,
                                                         http::StoredResponse response,
                                                         std::string body_digest) {
  const std::string digest = body_digest.empty() ? std::string() : "." + body_digest;
  json::array headers;
  for (auto const& [name, value] : response.headers) headers.push_back(json::array{name, value});
  std::string headers_text = json::serialize(headers);
  co_await db_.run([&](soci::session& sql) {
    sql << complete_sql, soci::use(response.status), soci::use(headers_text), soci::use(response.body),
        soci::use(digest), soci::use(scope), soci::use(key);
  });
}

core::Awaitable<void> DatabaseIdempotencyStore::release(std::string scope, std::string key) {
  co_await db_.run([&](soci::session& sql) { sql << release_sql, soci::use(scope), soci::use(key); });
}

}  // namespace bookspace::app
