#pragma once

// The metrics of the process itself (Prometheus' standard process_* families, the build) and of
// the kernel's pools and event consumers, collected when /metrics is read.

#include <chrono>

namespace bookspace::core {
class Database;
class EventLog;
class Metrics;
class WorkerPool;
}  // namespace bookspace::core

namespace bookspace::app {

/// process_resident_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds,
/// process_cpu_seconds_total and bookspace_build_info{version}.
void register_process_metrics(core::Metrics& metrics, std::chrono::steady_clock::time_point started_at);
/// bookspace_pool_{threads,busy,queued,rejected_total}{pool} for the database and CPU pools, and
/// bookspace_event_consumer_failures_total; with SQLite group commit,
/// bookspace_group_commit_{batches,transactions}_total.
void register_pool_metrics(core::Metrics& metrics, core::Database& db, core::WorkerPool& cpu,
                           core::EventLog& events);

}  // namespace bookspace::app
