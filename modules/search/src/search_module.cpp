#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/metrics.hpp"
#include "core/scheduler.hpp"
#include "http/router.hpp"
#include "index.hpp"
#include "routes.hpp"
#include "service.hpp"

#include <bookspace/documents/documents.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/search/search.hpp>

#include <soci/soci.h>
#include <bookspace/migrations/search.hpp>

#include <atomic>
#include <ostream>

namespace bookspace::search {

namespace {

class SearchModule final : public app::Module {
 public:
  explicit SearchModule(app::ModuleContext& ctx)
      : ctx_(ctx),
        index_(ctx.db.dialect() == core::Dialect::sqlite ? sqlite_index() : postgres_index()),
        service_({ctx.db, ctx.events, ctx.clock, *index_,
                  ctx.metrics.histogram("search_query_seconds", "Search queries: parse, rank, snippets."),
                  ctx.services.find<documents::Catalog>(), ctx.services.find<files::Catalog>()}) {
    if (auto* queue = ctx.services.find<jobs::Queue>()) {
      queue->register_handler(
          "search.reindex",
          [this](jobs::JobContext& job) -> boost::json::value {
            const auto r = service_.reindex(job.sql(), [&job] { return job.cancelled(); });
            return boost::json::object{{"documents", r.documents},
                                       {"files", r.files},
                                       {"texts_requested", r.texts_requested},
                                       {"removed", r.removed}};
          },
          {1, std::chrono::hours(6), -1, false,
           "Rebuild the search index from the documents and files modules while search goes on"});
    }
    ctx.metrics.collector(
        "search_entries", "Documents and files in the search index.", "gauge",
        [this](std::string& out) { out += "search_entries " + std::to_string(entries_.load()) + "\n"; });
    ctx.metrics.collector("search_index_bytes",
                          "Bytes the search index takes on disk (measured every 10 minutes).", "gauge",
                          [this](std::string& out) {
                            out += "search_index_bytes " + std::to_string(disk_bytes_.load()) + "\n";
                          });
  }

  void register_routes(http::Router& router) override { add_routes(router, service_); }
  /// For `bookspace search reindex` (CommandContext::self), not for other modules.
  Service& service() { return service_; }
  boost::json::object openapi_schemas() const override { return search::openapi_schemas(); }

  void subscribe(core::EventLog& events) override {
    events.subscribe(
        std::string(consumer_name),
        core::types_of<documents::Created, documents::Updated, documents::Restored, documents::Deleted,
                       documents::Purged, documents::Shared, documents::Unshared, files::Uploaded,
                       files::TextExtracted, files::Deleted>(),
        [this](core::Tx& tx, core::Event const& e) { service_.follow(tx, e); },
        {.gather = std::chrono::milliseconds(ctx_.config.integer("search.index_batch_ms")),
         .begin = [this](core::Tx& tx) { index_->begin_batch(tx); },
         .end = [this](core::Tx& tx) { index_->end_batch(tx); }});
  }

  void start() override {
    gauge_ = ctx_.scheduler.every({"search.gauges", std::chrono::seconds(30), 0.1, true,
                                   [this](soci::session& sql) { entries_ = index_->size(sql); }});
    size_task_ =
        ctx_.scheduler.every({"search.disk_size", std::chrono::minutes(10), 0.1, true,
                              [this](soci::session& sql) { disk_bytes_ = index_->disk_bytes(sql); }});
  }
  void stop() override {
    if (gauge_) ctx_.scheduler.cancel(gauge_);
    if (size_task_) ctx_.scheduler.cancel(size_task_);
    gauge_ = size_task_ = 0;
  }

 private:
  app::ModuleContext& ctx_;
  std::unique_ptr<SearchIndex> index_;
  Service service_;
  std::atomic<std::int64_t> entries_{0}, disk_bytes_{0};
  core::Scheduler::Id gauge_ = 0, size_task_ = 0;
};

/// `bookspace search reindex`: the rebuild the job type search.reindex does, from the terminal
/// (the enabled modules are created, not started; the server may be running meanwhile).
int reindex_command(app::CommandContext& ctx) {
  // The module's own service, reached through its instance: private services stay out of the
  // cross-module registry.
  auto* module = dynamic_cast<SearchModule*>(ctx.self);
  Service* service = module ? &module->service() : nullptr;
  if (!service) {
    ctx.err << "bookspace search reindex: the search module is not enabled\n";
    return 1;
  }
  // On a terminal, the counts so far on one line that rewrites itself.
  auto progress = [&](ReindexResult const& r) {
    ctx.err << "\rreindexing: " << r.documents << " documents, " << r.files << " files" << std::flush;
  };
  if (ctx.terminal) progress({});
  const auto r = ctx.db.run_blocking([&](soci::session& sql) {
    return service->reindex(
        sql, [] { return false; },
        ctx.terminal ? std::function<void(ReindexResult const&)>(progress) : nullptr);
  });
  if (ctx.terminal) ctx.err << "\n";
  ctx.out << "reindexed " << r.documents << " documents and " << r.files << " files; asked for "
          << r.texts_requested << " texts again; removed " << r.removed << " stale entries\n";
  return 0;
}

void declare_config(app::ConfigSchema& s) {
  s.add(app::integer_key(
      "search.index_batch_ms", 100, 0, 1000,
      "After a change the indexer waits this long, then indexes every change of that time in one "
      "transaction (far less work per document under load; a change is searchable within about this "
      "long). 0: each commit at once."));
}

}  // namespace

app::ModuleDescriptor search_module() {
  return {.name = "search",
          .summary = "permission-aware full-text search over documents and file text (FTS5 / tsvector)",
          .depends_on = {"auth"},
          .uses = {"documents", "files", "jobs"},
          .migrations = &migrations::search,
          .declare_config = &declare_config,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<SearchModule>(ctx);
          },
          .commands = {{"search reindex",
                        "rebuild the search index from documents and files (searches go on meanwhile)",
                        &reindex_command, true}}};
}

}  // namespace bookspace::search
