#pragma once

// Revocation across instances: a logout answers once every live instance refuses the session's
// access tokens, not merely once the revocation is committed.

#include "core/async.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace soci {
class session;
}
namespace bookspace::core {
class Clock;
class Database;
class Logger;
class Scheduler;
}  // namespace bookspace::core

namespace bookspace::auth {

/// Each instance keeps a row in auth_instances (a heartbeat every 5 s; live: seen in the last
/// 15 s) and, when its revocation watch has put a session into its token cache, a row in
/// auth_revocation_acks. wait() polls until every live instance has acknowledged the session,
/// at most `limit` (an instance that died within the last 15 s makes a logout wait that long,
/// then answer anyway).
class RevocationPropagation {
 public:
  RevocationPropagation(core::Database& db, core::Scheduler& scheduler, core::Clock const& clock,
                        core::Logger& log, std::string instance_id);

  void start();
  void stop();
  /// This instance refuses `session_id` from now on (called by the revocation watch); the
  /// acknowledgement is written at once by the scheduler.
  void applied(std::string session_id);
  /// True once every live instance refuses `session_id`; false when `limit` passed first.
  core::Awaitable<bool> wait(std::string session_id, std::chrono::milliseconds limit);

  /// The same for a process that verifies auth's tokens without running auth (auth's stand-in,
  /// through the internal routes): its heartbeat, its acknowledgements, its leaving.
  core::Awaitable<void> heartbeat_of(std::string instance_id);
  core::Awaitable<void> acknowledge(std::string instance_id, std::vector<std::string> sessions);
  core::Awaitable<void> leave(std::string instance_id);

 private:
  void write_acks(soci::session& sql);
  void heartbeat(soci::session& sql);

  core::Database& db_;
  core::Scheduler& scheduler_;
  core::Clock const& clock_;
  core::Logger& log_;
  const std::string instance_id_;
  std::uint64_t heartbeat_task_ = 0;
  std::mutex mutex_;
  std::vector<std::string> pending_;
  bool scheduled_ = false;
};

}  // namespace bookspace::auth
