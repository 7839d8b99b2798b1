#include "core/async.hpp"

#include "core/error.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

namespace bookspace::core {

namespace {

ApiError overloaded() {
  Error error{ErrorCode::overloaded, "The server is busy; try again shortly.", {}};
  error.retry_after_s = 1;
  return ApiError(std::move(error));
}

}  // namespace

namespace asio = boost::asio;

/// What a ResumeBatch gathered: per executor, the coroutines to resume there.
struct ResumeBatch::Gathered {
  std::vector<std::pair<asio::any_io_executor, std::function<void()>>> items;
};

namespace {

thread_local ResumeBatch* current_batch = nullptr;

/// The coroutine's completion handler, kept until resume() posts it to its executor.
template <class Handler>
struct Suspended final : Resumer::State, std::enable_shared_from_this<Suspended<Handler>> {
  explicit Suspended(Handler h) : handler(std::move(h)) {}
  void resume() override;
  Handler handler;
};

}  // namespace

ResumeBatch::ResumeBatch() : gathered_(std::make_unique<Gathered>()), outer_(current_batch) {
  current_batch = this;
}

ResumeBatch::~ResumeBatch() {
  current_batch = outer_;
  auto& items = gathered_->items;
  std::vector<bool> taken(items.size(), false);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (taken[i]) continue;
    auto* context = &asio::query(items[i].first, asio::execution::context);
    std::vector<std::pair<asio::any_io_executor, std::function<void()>>> group;
    for (std::size_t j = i; j < items.size(); ++j) {
      if (taken[j] || &asio::query(items[j].first, asio::execution::context) != context) continue;
      taken[j] = true;
      group.push_back(std::move(items[j]));
    }
    auto ex = group.front().first;
    // On the io thread each dispatch runs at once (a strand not busy elsewhere runs it inline).
    asio::post(ex, [group = std::move(group)]() mutable {
      for (auto& [target, fn] : group) asio::dispatch(target, std::move(fn));
    });
  }
}

bool ResumeBatch::defer(asio::any_io_executor const& ex, std::function<void()>& fn) {
  if (current_batch == nullptr) return false;
  current_batch->gathered().items.emplace_back(ex, std::move(fn));
  return true;
}

namespace {

template <class Handler>
void Suspended<Handler>::resume() {
  asio::any_io_executor ex = asio::get_associated_executor(handler);
  auto run = [self = this->shared_from_this()]() mutable { std::move(self->handler)(); };
  if (current_batch == nullptr) {
    asio::post(ex, std::move(run));
    return;
  }
  current_batch->gathered().items.emplace_back(ex, std::move(run));
}

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
