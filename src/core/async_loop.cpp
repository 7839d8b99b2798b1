#include "core/async_loop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

namespace bookspace::core {

namespace asio = boost::asio;

struct WakeableLoop::State {
  std::optional<asio::strand<asio::io_context::executor_type>> strand;
  std::optional<asio::steady_timer> timer;
  std::mutex mutex;
  std::condition_variable cv;
  bool running = false;
  /// A wake-up is posted and has not run yet: more wake-ups meanwhile need no post of their own
  /// (a commit of many events wakes a loop once, not once per event).
  std::atomic<bool> wake_posted{false};

  void finished() {
    std::lock_guard lock(mutex);
    running = false;
    cv.notify_all();
  }
};

WakeableLoop::WakeableLoop() : state_(std::make_shared<State>()) {}

WakeableLoop::~WakeableLoop() {
  join();
}

void WakeableLoop::spawn(asio::io_context& io, Awaitable<void> loop) {
  state_->strand.emplace(asio::make_strand(io.get_executor()));
  state_->timer.emplace(*state_->strand);
  {
    std::lock_guard lock(state_->mutex);
    state_->running = true;
  }
  asio::co_spawn(*state_->strand, std::move(loop),
                 [state = state_](std::exception_ptr const&) { state->finished(); });
}

void WakeableLoop::wake() {
  if (!state_->strand || state_->wake_posted.exchange(true)) return;
  std::function<void()> cut_sleep = [state = state_] {
    state->wake_posted = false;
    state->timer->cancel();
  };
  // A commit hook of the group commit: with the batch's resumptions, in one wake-up.
  if (!ResumeBatch::defer(*state_->strand, cut_sleep)) asio::post(*state_->strand, std::move(cut_sleep));
}

Awaitable<void> WakeableLoop::sleep(std::chrono::milliseconds duration) {
  state_->timer->expires_after(duration);
  boost::system::error_code ec;
  co_await state_->timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void WakeableLoop::join() {
  std::unique_lock lock(state_->mutex);
  state_->cv.wait(lock, [&] { return !state_->running; });
}

}  // namespace bookspace::core
