#pragma once

#include "app/module.hpp"
#include "core/migrations.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace bookspace::core {
class WorkerPool;
}

namespace bookspace::app {

/// What the kernel's own endpoints read — and nothing else of the application.
struct OpsContext {
  http::Router& router;
  core::Database& db;
  core::EventLog& events;
  core::WorkerPool& cpu;
  core::Metrics& metrics;
  core::Logger& log;
  std::vector<core::Migration> const& migration_plan;
  std::atomic<bool>& migrations_current;                ///< readiness: set once no migration is pending
  std::function<bool()> draining;                       ///< readiness: shutting down or the server draining
  std::vector<std::unique_ptr<Module>> const& modules;  ///< their OpenAPI schemas
  std::chrono::steady_clock::time_point started_at;
  std::string metrics_token;  ///< server.metrics_token: empty, /metrics is open
};

/// /healthz, /readyz, /metrics, /openapi.json, /docs — the kernel's own endpoints — and the
/// process metrics.
void register_ops_routes(OpsContext context);

/// The self-contained HTML page served at /docs.
std::string_view docs_page_html();

}  // namespace bookspace::app
