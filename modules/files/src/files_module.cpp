#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/scheduler.hpp"
#include "core/secret_file.hpp"
#include "core/worker_pool.hpp"
#include "file_jobs.hpp"
#include "files_backup.hpp"
#include "http/router.hpp"
#include "migrate_storage.hpp"
#include "routes.hpp"
#include "s3_client.hpp"
#include "service.hpp"
#include "settings.hpp"
#include "tus.hpp"

#include <bookspace/documents/documents.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/events.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <soci/soci.h>

#include <sodium.h>
#include <bookspace/migrations/files.hpp>
#include <mutex>

namespace bookspace::files {

namespace {

constexpr int gc_batch = 200;

class CatalogImpl final : public Catalog {
 public:
  CatalogImpl(core::Database& db, Service& service) : db_(db), service_(service) {}
  std::vector<FileInfo> page(std::string const& after_id, int n) override {
    auto files = db_.run_waiting([&](soci::session& sql) { return files_after(sql, after_id, n); });
    std::vector<FileInfo> out;
    for (auto& f : files)
      out.push_back({f.id, f.name, f.content_type, f.owner_id, f.document_id, f.created_at});
    return out;
  }
  bool request_text(core::Tx& tx, FileInfo const& file, std::string const& key) override {
    return service_.request_text(tx, file.id, file.content_type, file.owner_id, key);
  }

 private:
  core::Database& db_;
  Service& service_;
};

class FilesModule final : public app::Module {
 public:
  explicit FilesModule(app::ModuleContext& ctx)
      : ctx_(ctx),
        settings_(settings_from(ctx.config, ctx.data_dir, ctx.log)),
        io_("files", settings_.io_threads, 1024),
        blobs_(settings_.s3 ? s3_blob_store(settings_.s3_config, ctx.db, settings_.storage_dir / "tmp")
                            : local_blob_store(settings_.storage_dir)),
        service_({ctx.db, ctx.events, ctx.clock, ctx.ids, io_, *blobs_,
                  ctx.services.require<documents::Access>(), settings_.service,
                  ctx.services.find<jobs::Queue>()}),
        collected_(
            ctx.metrics.counter("files_blobs_collected_total", "Unreferenced blobs deleted by the GC.")) {
    ctx.services.provide<Catalog>(catalog_);
    if (!settings_.s3) sweep_temporary();  // S3: the stray sweep does it, at start and every 6 h
    // Without the jobs module there is no text extraction and no export; the rest works.
    if (auto* queue = ctx.services.find<jobs::Queue>()) {
      register_jobs(*queue, service_, ctx.events, ctx.services.find<documents::Catalog>(), settings_.jobs);
    }
  }

  void register_routes(http::Router& router) override {
    add_routes(router, service_, settings_.max_file_bytes);
    add_tus_routes(router, service_, settings_.tus);
  }
  boost::json::object openapi_schemas() const override { return files::openapi_schemas(); }
  void subscribe(core::EventLog& events) override {
    events.subscribe("files.document_purges", core::types_of<documents::Purged>(),
                     [this](core::Tx& tx, core::Event const& e) { service_.follow_documents(tx, e); });
    events.subscribe("files.cancelled_exports", core::types_of<jobs::Cancelled>(),
                     [this](core::Tx& tx, core::Event const& e) { service_.follow_cancelled_jobs(tx, e); });
    // Every instance drops a deleted file from its download cache as soon as it sees the event
    // (files.cache_ms only bounds how long that may take when the tail lags).
    events.watch("files.cache", core::types_of<Deleted>(),
                 [this](core::Event const& e) { service_.forget_cached(e.aggregate_id); });
  }

  /// Readiness: whether the blob store works (S3: the bucket answers), as last checked.
  std::vector<app::ReadinessCheck> readiness() const override {
    if (!settings_.s3) return {};
    std::lock_guard lock(storage_mutex_);
    return {{"storage", storage_state_}};
  }

  void start() override {
    if (settings_.s3) {
      check_storage();
      storage_check_ = ctx_.scheduler.every({"files.storage_check", std::chrono::seconds(10), 0.1, false,
                                             [this](soci::session&) { check_storage(); }});
    }
    gc_ =
        ctx_.scheduler.every({"files.blob_gc", settings_.gc_interval, 0.1, true, [this](soci::session& sql) {
                                collected_.inc(service_.collect_garbage(sql, gc_batch));
                                swept_.inc(sweep_uploads(sql, service_, gc_batch));
                              }});
    // A walk of the whole store: at start (after a crash, say) and then every few hours.
    strays_ = ctx_.scheduler.every(
        {"files.stray_sweep", std::chrono::hours(6), 0.1, true, [this](soci::session& sql) {
           sweep_temporary();  // abandoned multipart uploads too (S3)
           const auto n = service_.sweep_strays(sql, [this] { return ctx_.scheduler.stopping(); });
           if (n > 0)
             ctx_.log.info("removed stored content no row names", {{"module", "files"}, {"files", n}});
           collected_.inc(n);
         }});
  }
  void stop() override {
    if (storage_check_) ctx_.scheduler.cancel(storage_check_);
    storage_check_ = 0;
    if (gc_) ctx_.scheduler.cancel(gc_);
    gc_ = 0;
    if (strays_) ctx_.scheduler.cancel(strays_);
    strays_ = 0;
    io_.stop();
  }

 private:
  void sweep_temporary() {
    try {
      if (auto n = blobs_->sweep_temporary(); n > 0)
        ctx_.log.info("removed unfinished uploads", {{"module", "files"}, {"files", n}});
    } catch (S3Error const& e) {
      ctx_.log.warn("could not look for unfinished uploads", {{"module", "files"}, {"error", e.message()}});
    }
  }
  /// One log line when the store's state changes (never a secret: S3Error's message has none).
  void check_storage() {
    const auto problem = blobs_->check();
    const std::string state = problem.value_or("ok");
    std::lock_guard lock(storage_mutex_);
    if (state == storage_state_) return;
    if (problem)
      ctx_.log.error("blob storage not usable", {{"module", "files"},
                                                 {"check", state},
                                                 {"endpoint", settings_.s3_config.endpoint},
                                                 {"bucket", settings_.s3_config.bucket}});
    else if (!storage_state_.empty())
      ctx_.log.info("blob storage usable again",
                    {{"module", "files"}, {"bucket", settings_.s3_config.bucket}});
    storage_state_ = state;
  }

  app::ModuleContext& ctx_;
  const FilesSettings settings_;
  core::WorkerPool io_;
  std::unique_ptr<BlobStore> blobs_;
  Service service_;
  CatalogImpl catalog_{ctx_.db, service_};
  core::Counter& collected_;
  core::Counter& swept_ = ctx_.metrics.counter("files_uploads_expired_total",
                                               "Resumable uploads removed after files.upload_expiry_s.");
  core::Scheduler::Id gc_ = 0;
  core::Scheduler::Id strays_ = 0;
  core::Scheduler::Id storage_check_ = 0;
  mutable std::mutex storage_mutex_;
  std::string storage_state_;
};

void declare_s3_config(app::ConfigSchema& s) {
  s.add({"files.s3.endpoint", app::ConfigType::string, "",
         "S3 endpoint, scheme://host[:port] (https://s3.eu-west-1.amazonaws.com, http://127.0.0.1:9000)."});
  s.add(
      {"files.s3.region", app::ConfigType::string, "us-east-1", "The bucket's region (signatures name it)."});
  s.add({"files.s3.bucket", app::ConfigType::string, "", "The bucket blobs live in (it must exist)."});
  s.add({"files.s3.access_key_id", app::ConfigType::string, "", "S3 access key id."});
  app::ConfigKey secret{"files.s3.secret_access_key", app::ConfigType::string, "",
                        "S3 secret access key. Secret."};
  secret.redact = [](std::string const& v) { return v.empty() ? std::string() : std::string("***"); };
  s.add(std::move(secret));
  s.add({"files.s3.path_style", app::ConfigType::boolean, true,
         "Path-style addressing (endpoint/bucket/key); false: virtual-host style (bucket.endpoint/key)."});
  s.add({"files.s3.prefix", app::ConfigType::string, "",
         "Prepended to every object key (one bucket, several uses)."});
  s.add(app::integer_key(
      "files.s3.part_size_bytes", 16LL << 20, 5LL << 20, 5LL << 30,
      "Multipart upload part size (bytes, at least 5 MiB): an upload holds two parts in memory."));
  s.add({"files.s3.presign_downloads", app::ConfigType::boolean, false,
         "Downloads answer 302 to a presigned S3 URL (5 minutes) instead of streaming through the server."});
  s.add({"files.s3.ca_file", app::ConfigType::string, "",
         "CA bundle (PEM) to verify the S3 endpoint's certificate; empty: the system's CAs."});
}

void declare_config(app::ConfigSchema& s) {
  s.add(app::integer_key("files.max_file_bytes", 1LL << 30, 1, 1LL << 40,
                         "Largest file one upload may store (bytes); bigger → 413."));
  s.add(app::integer_key("files.quota_bytes", 10LL << 30, 0, 1LL << 50,
                         "Storage per user, counted on the logical size of their files (bytes); 0: none. "
                         "Past it → 507 quota_exceeded."));
  s.add({"files.storage", app::ConfigType::string, "local",
         "Where blobs live: \"local\" (files.storage_dir) or \"s3\" (files.s3.*; instances then share no "
         "volume)."});
  s.add({"files.storage_dir", app::ConfigType::string, "",
         "Where blobs live with local storage; empty: <data_dir>/blobs. Several instances share it (a shared "
         "volume). With S3: scratch files only (exports being zipped)."});
  declare_s3_config(s);
  s.add({"files.allowed_types", app::ConfigType::string_list, boost::json::array(),
         "Content types an upload may have (as sniffed; \"image/*\" allowed); others → 415. Empty: any."});
  app::ConfigKey key{"files.link_key", app::ConfigType::string, "",
                     "HMAC key of signed file links (32 bytes, base64url). Empty: generated once into "
                     "<data_dir>/files-link-key. Instances must share it. Secret."};
  key.redact = [](std::string const& v) { return v.empty() ? std::string() : std::string("***"); };
  s.add(std::move(key));
  s.add(
      app::integer_key("files.io_threads", 4, 1, 64, "Threads for disk work (upload writes, fsync, opens)."));
  s.add(app::integer_key("files.blob_grace_s", 3600, 0, 30 * 86400,
                         "A blob no file references is deleted this long after its last reference went."));
  s.add(app::integer_key("files.gc_interval_s", 600, 1, 86400,
                         "How often unreferenced blobs and expired resumable uploads are looked for."));
  s.add(app::integer_key("files.cache_ms", 1000, 0, 60'000,
                         "How long a served file's row and descriptor are kept for the next download of it "
                         "(no database round trip); another instance's deletion shows within this. 0: off."));
  s.add(app::integer_key("files.upload_expiry_s", 86400, 60, 30 * 86400,
                         "A resumable (tus) upload not written to for this long is removed."));
  s.add(app::integer_key("files.extract_max_bytes", 1 << 20, 1024, 64 << 20,
                         "Text kept per file by files.extract_text (bytes of UTF-8); the rest is cut."));
  s.add(app::integer_key("files.extract_timeout_s", 120, 1, 3600,
                         "Time one text extraction may take before its attempt fails."));
}

}  // namespace

app::ModuleDescriptor files_module() {
  return {
      .name = "files",
      .summary = "streamed uploads, content-addressed deduplicated storage, quotas, Range downloads",
      .depends_on = {"auth", "documents"},
      .uses = {"jobs"},
      .provides = {app::interface<Catalog>()},
      .required = {app::interface<documents::Access>()},
      .migrations = &migrations::files,
      .declare_config = &declare_config,
      .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
        return std::make_unique<FilesModule>(ctx);
      },
      .commands = {{"files migrate-storage",
                    "--to s3|local: copy every blob into the other store (files.s3.*, files.storage_dir), "
                    "checked by its SHA-256; resumable, safe while the server runs",
                    &migrate_storage_command}},
      .backup = {&backup_save, &backup_verify, &backup_restore}};
}

}  // namespace bookspace::files
