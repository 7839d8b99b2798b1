#include "core/async.hpp"

#include "core/error.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
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

Awaitable<void> run_on_pool(WorkerPool& pool, std::function<void(std::size_t)> work) {
  std::exception_ptr failure;
  bool accepted = true;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        bool queued = pool.try_submit([&work, &failure, shared](std::size_t worker) mutable {
          try {
            work(worker);
          } catch (...) {
            failure = std::current_exception();
          }
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared]() mutable { (*shared)(); });
        });
        if (!queued) {
          accepted = false;
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared]() mutable { (*shared)(); });
        }
      },
      asio::use_awaitable);
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
