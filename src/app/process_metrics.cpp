#include "app/process_metrics.hpp"

#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/metrics.hpp"
#include "core/worker_pool.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

namespace bookspace::app {

namespace {

double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (auto* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the directory stream itself
}

}  // namespace

void register_process_metrics(core::Metrics& m, std::chrono::steady_clock::time_point started_at) {
  m.collector("process_resident_memory_bytes", "Resident set size.", "gauge", [](std::string& out) {
    core::append_sample(out, "process_resident_memory_bytes", "", rss_bytes());
  });
  m.collector("process_open_fds", "Open file descriptors.", "gauge",
              [](std::string& out) { core::append_sample(out, "process_open_fds", "", open_fds()); });
  // Prometheus' standard process metrics beside ours: start time, CPU, the descriptor limit.
  const double started_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
  m.collector("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
              "gauge", [started_s](std::string& out) {
                core::append_sample(out, "process_start_time_seconds", "", started_s);
              });
  m.collector("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter",
              [](std::string& out) {
                rusage usage{};
                ::getrusage(RUSAGE_SELF, &usage);
                const double s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
                core::append_sample(out, "process_cpu_seconds_total", "", s);
              });
  m.collector("process_max_fds", "The limit of open file descriptors.", "gauge", [](std::string& out) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    core::append_sample(out, "process_max_fds", "", static_cast<double>(limit.rlim_cur));
  });
  m.collector("bookspace_build_info", "The running build (always 1).", "gauge", [](std::string& out) {
    core::append_sample(out, "bookspace_build_info", "version=\"" BOOKSPACE_VERSION "\"", 1);
  });
}

void register_pool_metrics(core::Metrics& m, core::Database& db, core::WorkerPool& cpu,
                           core::EventLog& events) {
  auto pool = [&m](std::string const& label, core::WorkerPool* pool) {
    m.collector(
        "bookspace_pool_threads", "Worker threads per pool.", "gauge", [label, pool](std::string& out) {
          core::append_sample(out, "bookspace_pool_threads", label, static_cast<double>(pool->threads()));
        });
    m.collector("bookspace_pool_busy", "Workers running a task.", "gauge", [label, pool](std::string& out) {
      core::append_sample(out, "bookspace_pool_busy", label, static_cast<double>(pool->busy()));
    });
    m.collector(
        "bookspace_pool_queued", "Tasks waiting for a worker.", "gauge", [label, pool](std::string& out) {
          core::append_sample(out, "bookspace_pool_queued", label, static_cast<double>(pool->queued()));
        });
    m.collector("bookspace_pool_rejected_total", "Tasks refused because the queue was full (503).", "counter",
                [label, pool](std::string& out) {
                  core::append_sample(out, "bookspace_pool_rejected_total", label,
                                      static_cast<double>(pool->rejected()));
                });
  };
  pool("pool=\"db\"", &db.pool());
  if (db.background_checkpoints()) {
    m.collector("bookspace_group_commit_batches_total",
                "SQLite group commits (one COMMIT and fsync each) since start.", "counter",
                [&db](std::string& out) {
                  core::append_sample(out, "bookspace_group_commit_batches_total", "",
                                      static_cast<double>(db.group_commits().first));
                });
    m.collector("bookspace_group_commit_transactions_total",
                "Transactions committed in SQLite group commits since start (÷ batches: the batch size).",
                "counter", [&db](std::string& out) {
                  core::append_sample(out, "bookspace_group_commit_transactions_total", "",
                                      static_cast<double>(db.group_commits().second));
                });
  }
  pool("pool=\"cpu\"", &cpu);
  m.collector("bookspace_event_consumer_failures_total", "Event handler failures since start.", "counter",
              [&events](std::string& out) {
                core::append_sample(out, "bookspace_event_consumer_failures_total", "",
                                    static_cast<double>(events.failures_total()));
              });
}

}  // namespace bookspace::app
