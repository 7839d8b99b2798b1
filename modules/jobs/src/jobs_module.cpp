#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/scheduler.hpp"
#include "http/router.hpp"
#include "routes.hpp"
#include "runner.hpp"
#include "service.hpp"

#include <bookspace/jobs/jobs.hpp>

#include <soci/soci.h>
#include <bookspace/migrations/jobs.hpp>

#include <sodium.h>
#include <unistd.h>

#include <iostream>
#include <mutex>

namespace bookspace::jobs {

namespace {

namespace json = boost::json;
constexpr int prune_batch = 500;

struct Settings {
  RunnerSettings runner;
  std::chrono::milliseconds drain;
  long long retention_ms, failed_retention_ms;
  std::chrono::seconds prune_interval;
  std::chrono::milliseconds cron_interval;
  std::vector<ScheduleEntry> schedules;

  explicit Settings(app::Config const& c)
      : runner{static_cast<int>(c.integer("jobs.workers")),
               static_cast<int>(c.integer("jobs.claim_batch")),
               std::chrono::milliseconds(c.integer("jobs.lease_ms")),
               std::chrono::milliseconds(c.integer("jobs.poll_interval_ms")),
               c.integer("jobs.backoff_base_ms"),
               c.integer("jobs.backoff_cap_ms")},
        drain(c.integer("jobs.drain_timeout_ms")),
        retention_ms(c.integer("jobs.retention_days") * 86'400'000LL),
        failed_retention_ms(c.integer("jobs.failed_retention_days") * 86'400'000LL),
        prune_interval(c.integer("jobs.prune_interval_s")),
        cron_interval(c.integer("jobs.cron_interval_ms")) {
    for (auto const& text : c.list("jobs.schedules")) {
      std::string why;
      if (auto e = parse_schedule_entry(text, &why)) schedules.push_back(std::move(*e));
    }
  }
};

/// This instance's name on the leases it takes: host, process and a random tail (a restarted
/// process never mistakes its predecessor's leases for its own).
std::string new_worker_id() {
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(randombytes_random() % 100000);
}

/// Queue depth by type and state and the oldest due job's wait, refreshed by a scheduler task and
/// rendered from memory at scrape time (a scrape never queries the database).
class QueueGauges {
 public:
  explicit QueueGauges(core::Metrics& metrics) {
    metrics.collector("jobs_queue_depth", "Jobs queued, running and failed (dead letters), by type.", "gauge",
                      [this](std::string& out) {
                        std::lock_guard lock(mutex_);
                        for (auto const& d : depth_) {
                          core::append_sample(out, "jobs_queue_depth",
                                              "type=\"" + core::Metrics::escape(d.type) + "\",state=\"" +
                                                  std::string(to_string(d.status)) + "\"",
                                              static_cast<double>(d.count));
                        }
                      });
    metrics.collector("jobs_oldest_due_seconds", "How long the longest-waiting due job has waited.", "gauge",
                      [this](std::string& out) {
                        std::lock_guard lock(mutex_);
                        core::append_sample(out, "jobs_oldest_due_seconds", "", oldest_s_);
                      });
  }
  void refresh(soci::session& sql, long long now) {
    auto d = depth(sql);
    auto oldest = oldest_due(sql, now);
    std::lock_guard lock(mutex_);
    depth_ = std::move(d);
    oldest_s_ = oldest ? static_cast<double>(now - *oldest) / 1000.0 : 0.0;
  }

 private:
  std::mutex mutex_;
  std::vector<Depth> depth_;
  double oldest_s_ = 0;
};

class JobsModule final : public app::Module {
 public:
  explicit JobsModule(app::ModuleContext& ctx)
      : ctx_(ctx),
        settings_(ctx.config),
        queue_(ctx.events, ctx.ids, ctx.clock),
        runner_({ctx.db, ctx.events, ctx.clock, ctx.log, ctx.metrics, queue_, new_worker_id()},
                settings_.runner),
        service_({ctx.db, ctx.events, ctx.clock, queue_, &runner_}),
        gauges_(ctx.metrics),
        pruned_(ctx.metrics.counter("jobs_pruned_total", "Ended jobs deleted by the retention.")),
        cron_enqueued_(ctx.metrics.counter("jobs_cron_enqueued_total", "Jobs enqueued by cron schedules.")) {
    ctx.services.provide<Queue>(queue_);
    ctx.events.on_signal(std::string(wake_channel), [this] { runner_.wake(); });
  }

  void register_routes(http::Router& router) override { add_routes(router, service_); }
  json::object openapi_schemas() const override { return jobs::openapi_schemas(queue_); }

  void start() override {
    for (auto const& s : settings_.schedules) {
      if (!queue_.find(s.type))
        ctx_.log.error("jobs.schedules: no module here handles this job type; the schedule is skipped",
                       {{"schedule", s.name}, {"type", s.type}});
    }
    runner_.start();
    tasks_.push_back(ctx_.scheduler.every({"jobs.retention", settings_.prune_interval, 0.1, true,
                                           [this](soci::session& sql) { prune_once(sql); }}));
    tasks_.push_back(
        ctx_.scheduler.every({"jobs.gauges", std::chrono::seconds(5), 0.1, true,
                              [this](soci::session& sql) { gauges_.refresh(sql, ctx_.clock.now_ms()); }}));
    if (!settings_.schedules.empty()) {
      tasks_.push_back(ctx_.scheduler.every(
          {"jobs.cron", settings_.cron_interval, 0.1, true, [this](soci::session& sql) { cron_once(sql); }}));
    }
  }

  void stop() override {
    for (auto id : tasks_) ctx_.scheduler.cancel(id);
    tasks_.clear();
    runner_.stop(settings_.drain);
  }

 private:
  void prune_once(soci::session& sql) {
    const long long now = ctx_.clock.now_ms();
    while (!ctx_.scheduler.stopping()) {
      std::size_t n = 0;
      core::run_transaction(sql, ctx_.db.dialect(), [&](core::Tx& tx) {
        n = prune(tx.sql, now - settings_.retention_ms, now - settings_.failed_retention_ms, prune_batch);
      });
      pruned_.inc(n);
      if (n < static_cast<std::size_t>(prune_batch)) break;
    }
  }

  void cron_once(soci::session& sql) {
    std::vector<ScheduleEntry> runnable;
    for (auto const& s : settings_.schedules) {
      if (queue_.find(s.type)) runnable.push_back(s);
    }
    cron_enqueued_.inc(service_.run_schedules(sql, runnable, ctx_.clock.now_ms()));
  }

  app::ModuleContext& ctx_;
  Settings settings_;
  QueueImpl queue_;
  Runner runner_;
  Service service_;
  QueueGauges gauges_;
  core::Counter& pruned_;
  core::Counter& cron_enqueued_;
  std::vector<core::Scheduler::Id> tasks_;
};

void declare_config(app::ConfigSchema& s) {
  s.add(app::integer_key("jobs.workers", 4, 0, 256,
                         "Job handler threads in this instance (0: it enqueues but runs no jobs)."));
  s.add(app::integer_key("jobs.claim_batch", 32, 1, 1000, "Jobs claimed per queue round at most."));
  s.add(app::integer_key("jobs.lease_ms", 30'000, 1'000, 3'600'000,
                         "How long a claimed job is held without a heartbeat (renewed every third of it); "
                         "after that another worker may run it."));
  s.add(app::integer_key("jobs.poll_interval_ms", 1'000, 10, 60'000,
                         "How often workers look for due jobs without a wake-up (delayed jobs, retries, "
                         "other SQLite processes)."));
  s.add(app::integer_key("jobs.backoff_base_ms", 1'000, 1, 86'400'000,
                         "Retry delay after the first failure; it doubles per attempt (full jitter)."));
  s.add(app::integer_key("jobs.backoff_cap_ms", 3'600'000, 1, 604'800'000, "Longest retry delay."));
  s.add(app::integer_key("jobs.drain_timeout_ms", 10'000, 0, 3'600'000,
                         "On shutdown, how long running jobs may finish before they are given back to the "
                         "queue."));
  s.add(app::integer_key("jobs.retention_days", 7, 0, 36'500,
                         "Succeeded and cancelled jobs are deleted this long after they ended."));
  s.add(app::integer_key("jobs.failed_retention_days", 30, 0, 36'500,
                         "Failed jobs (dead letters) are deleted this long after they failed."));
  s.add(app::integer_key("jobs.prune_interval_s", 3600, 1, 86'400, "How often the retention runs."));
  s.add(
      app::integer_key("jobs.cron_interval_ms", 5'000, 100, 60'000, "How often cron schedules are checked."));
  app::ConfigKey schedules{"jobs.schedules", app::ConfigType::string_list, json::array(),
                           "Cron schedules, each \"<name>: <5-field cron, UTC> <job type> [payload JSON "
                           "object]\"; one job per tick across all instances, missed ticks run once."};
  schedules.validate = [](json::value const& v) -> std::optional<std::string> {
    for (auto const& item : v.as_array()) {
      std::string why;
      if (!parse_schedule_entry(item.as_string(), &why)) return std::string(item.as_string()) + ": " + why;
    }
    return std::nullopt;
  };
  s.add(std::move(schedules));
}

/// `bookspace jobs types`: the job types the enabled modules registered.
int list_types(app::CommandContext& ctx) {
  auto const* queue = ctx.services ? ctx.services->find<Queue>() : nullptr;
  if (!queue) {
    ctx.err << "bookspace jobs types: the jobs module is not enabled\n";
    return 1;
  }
  auto types = queue->types();
  if (types.empty()) ctx.out << "(no module registered a job type)\n";
  for (auto const& t : types) {
    ctx.out << t.type << "\t" << (t.options.members_may_enqueue ? "members" : "admins") << "\tmax_attempts "
            << t.options.max_attempts << "\ttimeout " << t.options.timeout.count() << " ms\tpriority "
            << t.options.priority << "\t" << t.options.summary << "\n";
  }
  return 0;
}

}  // namespace

app::ModuleDescriptor jobs_module() {
  return {.name = "jobs",
          .summary = "durable job queue: leases, retries with backoff, cancel and retry, progress, cron",
          .provides = {app::interface<Queue>()},
          .migrations = &migrations::jobs,
          .declare_config = &declare_config,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<JobsModule>(ctx);
          },
          .commands = {{"jobs types",
                        "list the job types of the enabled modules: who may enqueue them, attempts, timeout, "
                        "priority",
                        &list_types, true}}};
}

}  // namespace bookspace::jobs
