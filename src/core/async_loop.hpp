#pragma once

// A background coroutine loop that sleeps until woken (kernel-private: the event log's tails).

#include "core/async.hpp"

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace bookspace::core {

/// Runs one coroutine on a strand of its own: between rounds it sleeps until its time passes or
/// wake() cuts the sleep short. A wake-up while it is not asleep is not kept: the loop keeps a
/// flag of its own for work that arrived meanwhile.
class WakeableLoop {
 public:
  WakeableLoop();
  ~WakeableLoop();
  WakeableLoop(WakeableLoop const&) = delete;
  WakeableLoop& operator=(WakeableLoop const&) = delete;

  /// Starts `loop` (made by the caller; it calls sleep()) on a new strand of `io`.
  void spawn(boost::asio::io_context& io, Awaitable<void> loop);
  /// Cuts the current sleep short; from any thread.
  void wake();
  /// Sleeps for `duration` unless woken first. Only from the loop.
  Awaitable<void> sleep(std::chrono::milliseconds duration);
  /// Blocks until the loop returned (at once when it was never spawned).
  void join();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace bookspace::core
