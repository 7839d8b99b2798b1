#pragma once

#include "app/module.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {
class Tx;
}
namespace soci {
class session;
}

namespace bookspace::jobs {

/// The jobs module: a durable queue in the database (leases, backoff, dead-letter, cancel and
/// retry, progress, cron), on SQLite and PostgreSQL alike. See docs/modules/jobs.md.
app::ModuleDescriptor jobs_module();

/// How jobs of one type run. Set once, when the type's handler is registered.
struct TypeOptions {
  int max_attempts = 5;                        ///< default of a job that does not say
  std::chrono::milliseconds timeout{600'000};  ///< past it the attempt counts as failed (timed_out)
  int priority = 0;                            ///< higher runs first
  bool members_may_enqueue = false;            ///< POST /jobs by a member (else admins only)
  std::string summary;                         ///< one line, for `bookspace jobs types` and OpenAPI
};

/// What a handler is given. Handlers run on the jobs worker threads (never an io thread), so they
/// may block — on the database through `sql()`, on disk, on the CPU.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual std::string const& id() const = 0;
  virtual std::string const& type() const = 0;
  virtual std::string const& owner_id() const = 0;
  virtual boost::json::object const& payload() const = 0;
  /// 1 for the first run; a retry after a failure or a lost lease counts up.
  virtual int attempt() const = 0;
  /// 0–100, stored (at most every 100 ms) and shown in GET /jobs/{id}.
  virtual void report_progress(int percent) = 0;
  /// True once the job was cancelled, its deadline passed, or the server is shutting down:
  /// a long handler checks this between steps and returns (what it returns is then ignored).
  virtual bool cancelled() const = 0;
  virtual std::chrono::steady_clock::time_point deadline() const = 0;
  /// This worker's own database connection (outside any transaction).
  virtual soci::session& sql() = 0;
};

/// A handler returns the job's `result` (a JSON object, or null for none; any other value is
/// stored as {"value": …}) or throws to fail the
/// attempt (the exception's what() is stored as `last_error`). Delivery is at least once: a
/// handler may run again for a job whose previous run did its work but could not record it
/// (a crash, a lost lease), so its effects must be idempotent — keyed by the job id.
using Handler = std::function<boost::json::value(JobContext&)>;

/// A job to enqueue.
struct JobRequest {
  std::string type;
  boost::json::object payload;
  std::string owner_id;                ///< the user it belongs to (a module's system jobs: "system")
  std::optional<std::int64_t> run_at;  ///< ms since the epoch; absent: now
  std::optional<int> max_attempts;     ///< absent: the type's default
  /// One job per key, ever (while the row is kept): enqueue answers the existing job's id.
  std::optional<std::string> unique_key;
};

/// A registered type, for listings.
struct TypeInfo {
  std::string type;
  TypeOptions options;
};

/// The queue other modules use; provided through the ServiceRegistry by the jobs module.
class Queue {
 public:
  virtual ~Queue() = default;
  /// Enqueues inside the caller's transaction: the job exists iff the caller's change commits;
  /// workers (here and on other instances) are woken after COMMIT. Returns the job's id.
  /// Throws std::invalid_argument for a type nobody registered.
  virtual std::string enqueue(core::Tx& tx, JobRequest request) = 0;
  /// Registers the handler of `type` ("<module>.<what>"); call while modules are created.
  virtual void register_handler(std::string type, Handler handler, TypeOptions options = {}) = 0;
  virtual std::vector<TypeInfo> types() const = 0;
};

/// The events this module publishes: <bookspace/jobs/events.hpp>.

}  // namespace bookspace::jobs
