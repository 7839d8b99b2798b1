#include "core/async.hpp"

#include "core/error.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bookspace::core {

namespace {

ApiError overloaded() {
  Error error{ErrorCode::overloaded, "The server is busy; try again shortly.", {}};
  error.retry_after_s = 1;
  return ApiError(std::move(error));
}

}  // namespace

namespace asio = boost::asio;

namespace {

/// The coroutine's completion handler, kept until resume() posts it to its executor.
template <class Handler>
struct Suspended final : Resumer::State, std::enable_shared_from_this<Suspended<Handler>> {
  explicit Suspended(Handler h) : handler(std::move(h)) {}
  void resume() override {
    auto ex = asio::get_associated_executor(handler);
    asio::post(ex, [self = this->shared_from_this()]() mutable { std::move(self->handler)(); });
  }
  Handler handler;
};

}  // namespace

Awaitable<void> suspend(FunctionRef<void(Resumer const&)> begin) {
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&begin](auto handler) {
        begin(Resumer(std::make_shared<Suspended<decltype(handler)>>(std::move(handler))));
      },
      asio::use_awaitable);
}

Awaitable<void> all_of(Awaitable<void> a, Awaitable<void> b, Awaitable<void> c) {
  using namespace asio::experimental::awaitable_operators;
  co_await (std::move(a) && std::move(b) && std::move(c));
}

Awaitable<void> run_on_pool(WorkerPool& pool, std::function<void(std::size_t)> work) {
  std::exception_ptr failure;
  bool accepted = true;
  co_await suspend([&](Resumer const& resume) {
    accepted = pool.try_submit([&work, &failure, resume](std::size_t worker) {
      try {
        work(worker);
      } catch (...) {
        failure = std::current_exception();
      }
      resume();
    });
    if (!accepted) resume();
  });
  if (!accepted) throw overloaded();
  if (failure) std::rethrow_exception(failure);
}

void shed_if_full(WorkerPool const& pool) {
  if (pool.queued() >= pool.max_queue()) throw overloaded();
}

Awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace bookspace::core
