#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/scheduler.hpp"
#include "http/router.hpp"
#include "internal_routes.hpp"
#include "local_interfaces.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "stand_in.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/documents.hpp>

#include <soci/soci.h>
#include <bookspace/migrations/documents.hpp>

namespace bookspace::documents {

namespace {

constexpr int purge_batch = 100;

/// Purges trash older than the retention: a scheduler task (its thread and connection, so a
/// large purge never occupies the request pool), at start and every `interval`, in batches.
/// documents.* configuration, read and validated once (the schema: declare_config).
struct Settings {
  std::int64_t trash_retention_days = 30;
  std::chrono::seconds purge_interval{3600};
};

Settings settings_from(app::Config const& c) {
  return {c.integer("documents.trash_retention_days"),
          std::chrono::seconds(c.integer("documents.purge_interval_s"))};
}

class TrashPurger {
 public:
  TrashPurger(app::ModuleContext& ctx, Service& service, Settings const& settings)
      : ctx_(ctx),
        service_(service),
        retention_ms_(settings.trash_retention_days * 86'400'000LL),
        interval_(settings.purge_interval),
        purged_(ctx.metrics.counter("documents_trash_purged_total",
                                    "Documents deleted for good by the trash retention.")) {}

  void start() {
    task_ = ctx_.scheduler.every(
        {"documents.trash_purge", interval_, 0.1, true, [this](soci::session& sql) { run_once(sql); }});
  }
  void stop() {
    if (task_) ctx_.scheduler.cancel(task_);
    task_ = 0;
  }

 private:
  void run_once(soci::session& sql) {
    const long long cutoff = ctx_.clock.now_ms() - retention_ms_;
    std::size_t total = 0;
    while (!ctx_.scheduler.stopping()) {
      std::size_t n = service_.purge_expired(sql, cutoff, purge_batch);
      total += n;
      purged_.inc(n);
      if (n < static_cast<std::size_t>(purge_batch)) break;
    }
    if (total > 0) ctx_.log.info("trash purged", {{"module", "documents"}, {"documents", total}});
  }

  app::ModuleContext& ctx_;
  Service& service_;
  const long long retention_ms_;
  const std::chrono::milliseconds interval_;
  core::Counter& purged_;
  core::Scheduler::Id task_ = 0;
};

class DocumentsModule final : public app::Module {
 public:
  explicit DocumentsModule(app::ModuleContext& ctx)
      : db_(ctx.db),
        service_({ctx.db, ctx.events, ctx.clock, ctx.ids, ctx.services.require<auth::Accounts>()}),
        access_(ctx.db),
        catalog_(ctx.db),
        purger_(ctx, service_, settings_from(ctx.config)) {
    ctx.services.provide<Access>(access_);
    ctx.services.provide<Catalog>(catalog_);
  }

  void register_routes(http::Router& router) override {
    add_routes(router, service_);
    add_internal_routes(router, internal_);
  }
  boost::json::object openapi_schemas() const override { return documents::openapi_schemas(); }
  void start() override { purger_.start(); }
  void stop() override { purger_.stop(); }

 private:
  core::Database& db_;
  Service service_;
  LocalAccess access_;
  LocalCatalog catalog_;
  InternalDeps internal_{access_, db_};
  TrashPurger purger_;
};

void declare_config(app::ConfigSchema& s) {
  s.add(app::integer_key(
      "documents.trash_retention_days", 30, 0, 36500,
      "Trashed documents are deleted for good after this many days (0: at the next purge)."));
  s.add(app::integer_key("documents.purge_interval_s", 3600, 1, 86400,
                         "How often the trash is checked for documents past the retention."));
  app::ConfigKey remote{"documents.remote_url", app::ConfigType::string, "",
                        "In a process that does not run documents but runs modules that need it (files): "
                        "the base URL of the process that does (http://a:8080); needs cluster.service_key."};
  remote.validate = app::http_url_or_empty;
  s.add(std::move(remote));
}

}  // namespace

app::ModuleDescriptor documents_module() {
  return {.name = "documents",
          .summary = "documents, versions, shares, comments and trash",
          .depends_on = {"auth"},
          .provides = {app::interface<Access>(), app::interface<Catalog>()},
          .required = {app::interface<auth::Accounts>()},
          .migrations = &migrations::documents,
          .declare_config = &declare_config,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<DocumentsModule>(ctx);
          },
          .stand_in = &documents_stand_in,
          .stand_in_key = "documents.remote_url"};
}

}  // namespace bookspace::documents
