#pragma once

// The io threads: one single-threaded io_context each. Kernel-private (app/ and http/ use it).

#include <cstddef>
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bookspace::core {

/// `count` io_contexts, each run by a thread of its own from start() to stop(). An io_context
/// (and what was bound to it: timers, sockets) outlives its thread: they go with this object.
class IoThreads {
 public:
  explicit IoThreads(std::size_t count);
  ~IoThreads();
  IoThreads(IoThreads const&) = delete;
  IoThreads& operator=(IoThreads const&) = delete;

  std::vector<boost::asio::io_context*> const& contexts() const { return contexts_; }
  std::size_t size() const { return contexts_.size(); }
  /// The context of background loops (the event log's consumers): the last one, which the
  /// acceptor (on the first) does not share.
  boost::asio::io_context& background() const { return *contexts_.back(); }

  void start();
  /// Lets each thread finish what it is running, stops the contexts and joins the threads.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::vector<boost::asio::io_context*> contexts_;
};

}  // namespace bookspace::core
