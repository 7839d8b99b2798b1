#include "service.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/metrics.hpp"

#include <bookspace/documents/documents.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/files/files.hpp>

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

Entry document_entry(documents::Snapshot const& s, long long now) {
  return {Kind::document, s.id, std::nullopt, s.id, s.title, tags_text(s.tags), s.content, s.updated_at, now};
}

constexpr int reindex_batch = 200;

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
  const long long now = deps_.clock.now_ms();
  if (auto c = core::event_as<documents::Created>(e)) {
    index.set_readers(tx, c->id, c->readers);
    index.upsert(tx, document_entry(*c, now));
  } else if (auto u = core::event_as<documents::Updated>(e)) {
    index.set_readers(tx, u->id, u->readers);
    index.upsert(tx, document_entry(*u, now));
  } else if (auto r = core::event_as<documents::Restored>(e)) {
    index.set_readers(tx, r->id, r->readers);
    index.upsert(tx, document_entry(*r, now));
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
    index.upsert(tx,
                 {Kind::file, up->id, up->owner_id, up->document_id, up->name, "", "", up->created_at, now});
  } else if (auto text = core::event_as<files::TextExtracted>(e)) {
    index.set_body(tx, text->id, text->text);  // a file deleted meanwhile stays out
  } else if (auto gone = core::event_as<files::Deleted>(e)) {
    index.remove(tx, Kind::file, gone->id);
  }
}

ReindexResult Service::reindex(soci::session& sql, std::function<bool()> const& stop,
                               std::function<void(ReindexResult const&)> const& progress) {
  ReindexResult result;
  const long long started = deps_.clock.now_ms();
  const std::string key = "reindex-" + std::to_string(started);
  auto batch = [&](auto&& body) {
    core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
      deps_.events.hold_consumer(tx, std::string(consumer_name));
      body(tx);
    });
  };
  if (deps_.documents) {
    for (std::string after; !stop();) {
      const auto ids = deps_.documents->live_ids(after, reindex_batch);
      if (ids.empty()) break;
      batch([&](core::Tx& tx) {
        // Read while the batch holds the consumer: what it applies after the batch is newer.
        const long long now = deps_.clock.now_ms();
        for (auto const& id : ids) {
          auto snapshot = deps_.documents->snapshot(id);
          if (!snapshot) continue;
          deps_.index.set_readers(tx, id, snapshot->readers);  // first: the entry is written with them
          deps_.index.upsert(tx, document_entry(*snapshot, now));
          ++result.documents;
        }
      });
      after = ids.back();
      if (progress) progress(result);
    }
  }
  if (deps_.files) {
    for (std::string after; !stop();) {
      const auto page = deps_.files->page(after, reindex_batch);
      if (page.empty()) break;
      batch([&](core::Tx& tx) {
        const long long now = deps_.clock.now_ms();
        for (auto const& f : page) {
          const bool text = deps_.index.has_body(tx.sql, Kind::file, f.id);
          Entry e{Kind::file, f.id, f.owner_id, f.document_id, f.name, "", "", f.created_at, now};
          e.keep_body = true;  // the text came from an extraction: kept, or asked for again
          deps_.index.upsert(tx, e);
          if (!text && deps_.files->request_text(tx, f, key)) ++result.texts_requested;
          ++result.files;
        }
      });
      after = page.back().id;
      if (progress) progress(result);
    }
  }
  if (stop()) return result;  // nothing removed: a partial pass proves nothing stale
  batch([&](core::Tx& tx) { result.removed = deps_.index.sweep(tx, started); });
  return result;
}

}  // namespace bookspace::search
