#include "local_interfaces.hpp"

#include "core/database.hpp"
#include "store.hpp"

#include <soci/soci.h>
#include <boost/json/parse.hpp>

namespace bookspace::documents {

namespace {

Snapshot snapshot_of(soci::session& sql, Document d) {
  Snapshot s;
  s.id = d.id;
  s.owner_id = d.owner_id;
  s.version = d.version;
  s.title = std::move(d.title);
  s.content = std::move(d.content);
  const boost::json::value tags = boost::json::parse(d.tags);
  if (auto const* list = tags.if_array()) {
    for (auto const& tag : *list) {
      if (auto const* t = tag.if_string()) s.tags.emplace_back(*t);
    }
  }
  s.created_at = d.created_at;
  s.updated_at = d.updated_at;
  s.readers = readers_of(sql, s.id);
  return s;
}

}  // namespace

std::optional<Snapshot> readable_snapshot(soci::session& sql, std::string const& id,
                                          std::string const& user_id) {
  auto d = find_readable(sql, id, user_id);
  if (!d) return std::nullopt;
  d->id = id;
  return snapshot_of(sql, std::move(*d));
}

std::optional<Snapshot> live_snapshot(soci::session& sql, std::string const& id) {
  auto d = find_live(sql, id);
  if (!d) return std::nullopt;
  return snapshot_of(sql, std::move(*d));
}

core::Awaitable<Role> LocalAccess::role(std::string document_id, std::string user_id) {
  co_return co_await db_.run([&](soci::session& sql) { return role_of(sql, document_id, user_id); });
}

core::Awaitable<std::vector<std::string>> LocalAccess::readers(std::string document_id) {
  co_return co_await db_.run([&](soci::session& sql) { return readers_of(sql, document_id); });
}

std::vector<std::string> LocalCatalog::readable_ids(std::string const& user_id, std::string const& after_id,
                                                    int n) {
  return db_.run_waiting(
      [&](soci::session& sql) { return documents::readable_ids(sql, user_id, after_id, n); });
}

std::optional<Snapshot> LocalCatalog::read(std::string const& id, std::string const& user_id) {
  return db_.run_waiting([&](soci::session& sql) { return readable_snapshot(sql, id, user_id); });
}

std::vector<std::string> LocalCatalog::live_ids(std::string const& after_id, int n) {
  return db_.run_waiting([&](soci::session& sql) { return documents::live_ids(sql, after_id, n); });
}

std::optional<Snapshot> LocalCatalog::snapshot(std::string const& id) {
  return db_.run_waiting([&](soci::session& sql) { return live_snapshot(sql, id); });
}

}  // namespace bookspace::documents
