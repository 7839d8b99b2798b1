#include "service.hpp"

#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/metrics.hpp"

#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>

#include <chrono>

namespace bookspace::search {

namespace {

std::string tags_text(std::vector<std::string> const& tags) {
  std::string out;
  for (auto const& t : tags) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

Entry document_entry(documents::Snapshot const& s) {
  return {Kind::document, s.id, std::nullopt, s.id, s.title, tags_text(s.tags), s.content, s.updated_at};
}

}  // namespace

core::Awaitable<std::vector<Hit>> Service::search(std::string user, std::string q, std::optional<Kind> kind,
                                                  std::optional<After> after, int limit) {
  auto query = parse_query(q);
  if (!query) co_return std::vector<Hit>{};
  const auto started = std::chrono::steady_clock::now();
  Search s{std::move(*query), std::move(user), kind, std::move(after), limit + 1};
  auto hits = co_await deps_.db.run([&](soci::session& sql) { return deps_.index.search(sql, s); });
  deps_.latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return hits;
}

void Service::follow(core::Tx& tx, core::Event const& e) {
  SearchIndex& index = deps_.index;
  if (auto c = core::event_as<documents::Created>(e)) {
    index.upsert(tx, document_entry(*c));
    index.set_readers(tx, c->id, c->readers);
  } else if (auto u = core::event_as<documents::Updated>(e)) {
    index.upsert(tx, document_entry(*u));
    index.set_readers(tx, u->id, u->readers);
  } else if (auto r = core::event_as<documents::Restored>(e)) {
    index.upsert(tx, document_entry(*r));
    index.set_readers(tx, r->id, r->readers);
  } else if (auto d = core::event_as<documents::Deleted>(e)) {
    index.set_readers(tx, d->id, {});  // trashed: nobody finds it, its files only their owners
  } else if (auto p = core::event_as<documents::Purged>(e)) {
    index.set_readers(tx, p->id, {});
    index.remove(tx, Kind::document, p->id);
  } else if (auto sh = core::event_as<documents::Shared>(e)) {
    index.set_readers(tx, sh->id, sh->readers);
  } else if (auto un = core::event_as<documents::Unshared>(e)) {
    index.set_readers(tx, un->id, un->readers);
  } else if (auto up = core::event_as<files::Uploaded>(e)) {
    // Found by name at once; its text follows with files.text_extracted.v1 (with jobs).
    index.upsert(tx, {Kind::file, up->id, up->owner_id, up->document_id, up->name, "", "", up->created_at});
  } else if (auto text = core::event_as<files::TextExtracted>(e)) {
    index.set_body(tx, text->id, text->text);  // a file deleted meanwhile stays out
  } else if (auto gone = core::event_as<files::Deleted>(e)) {
    index.remove(tx, Kind::file, gone->id);
  }
}

}  // namespace bookspace::search
