#pragma once

// The jobs::Queue other modules use: the registered types and enqueue inside a caller's
// transaction. Shared by the API service (POST /jobs), cron and the runner.

#include "store.hpp"

#include <bookspace/jobs/jobs.hpp>

#include <map>
#include <mutex>
#include <optional>

namespace bookspace::core {
class Clock;
class EventLog;
class IdGenerator;
}  // namespace bookspace::core

namespace bookspace::jobs {

/// The signal channel workers listen on (EventLog::signal): "a job became due".
inline constexpr std::string_view wake_channel = "jobs.enqueued";

struct RegisteredType {
  Handler handler;
  TypeOptions options;
};

class QueueImpl final : public Queue {
 public:
  QueueImpl(core::EventLog& events, core::IdGenerator& ids, core::Clock const& clock)
      : events_(events), ids_(ids), clock_(clock) {}

  std::string enqueue(core::Tx& tx, JobRequest request) override;
  /// enqueue(), answering the job as stored (no read back unless its unique key was taken).
  Job enqueue_job(core::Tx& tx, JobRequest request);
  void register_handler(std::string type, Handler handler, TypeOptions options) override;
  std::vector<TypeInfo> types() const override;

  /// The handler and options of `type`; nullptr when nobody registered it.
  RegisteredType const* find(std::string const& type) const;

 private:
  core::EventLog& events_;
  core::IdGenerator& ids_;
  core::Clock const& clock_;
  mutable std::mutex mutex_;  ///< registration happens before start; lookups after, from any thread
  std::map<std::string, RegisteredType, std::less<>> types_;
};

}  // namespace bookspace::jobs
