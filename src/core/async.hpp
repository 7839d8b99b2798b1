#pragma once

#include "core/worker_pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

namespace bookspace::core {

template <class T = void>
using Awaitable = boost::asio::awaitable<T>;

/// Runs `work` on a pool thread and resumes the awaiting coroutine on its own executor.
/// Exceptions thrown by `work` are rethrown in the coroutine. A full pool throws
/// ApiError(overloaded) with Retry-After.
Awaitable<void> run_on_pool(WorkerPool& pool, std::function<void(std::size_t worker)> work);

/// A non-owning reference to a callable, for a callback run before the call that takes it
/// returns (no allocation, unlike std::function).
template <class Signature>
class FunctionRef;
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F>
  FunctionRef(F&& f)  // NOLINT(bugprone-forwarding-reference-overload): it only refers to f
      : object_(const_cast<void*>(static_cast<void const*>(&f))), call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

/// Resumes a coroutine suspended by suspend(): call it once, from any thread.
class Resumer {
 public:
  struct State {
    virtual ~State() = default;
    virtual void resume() = 0;
  };
  explicit Resumer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void operator()() const { state_->resume(); }

 private:
  std::shared_ptr<State> state_;
};

/// While one lives on a thread, Resumers called on that thread (and other wake-ups handed to
/// defer()) only gather; its destructor posts them as one task per io_context, which
/// dispatches each to its own executor (strand or not) in the order they came. A thread
/// answering many coroutines at once (the group commit's writer after a COMMIT) thus wakes each
/// io thread once instead of once per coroutine — each wake-up an epoll_ctl and a context
/// switch.
class ResumeBatch {
 public:
  ResumeBatch();
  ~ResumeBatch();
  ResumeBatch(ResumeBatch const&) = delete;
  ResumeBatch& operator=(ResumeBatch const&) = delete;

  struct Gathered;
  Gathered& gathered() { return *gathered_; }
  /// Within a ResumeBatch on this thread: `fn` is gathered to run on `ex` with the rest (true);
  /// else false, and the caller posts it itself.
  static bool defer(boost::asio::any_io_executor const& ex, std::function<void()>& fn);

 private:
  std::unique_ptr<Gathered> gathered_;
  ResumeBatch* outer_;
};

/// Suspends the coroutine until the Resumer handed to `begin` is called (once, from any thread,
/// possibly before `begin` returns); it resumes on its own executor. The primitive under
/// run_on_pool and the group commit's wait: one allocation, as a hand-written Asio initiation.
Awaitable<void> suspend(FunctionRef<void(Resumer const&)> begin);

/// Awaits the three at once (each started on the caller's executor); when one throws, the others
/// are cancelled and its exception is rethrown.
Awaitable<void> all_of(Awaitable<void> a, Awaitable<void> b, Awaitable<void> c);

/// Suspends the coroutine for `duration` on its own executor (a timer; no thread is held).
Awaitable<void> sleep_for(std::chrono::milliseconds duration);

/// Sheds early: throws the same ApiError(overloaded) as run_on_pool when the pool's queue is
/// full now, before a request spends database round trips on work the pool would refuse.
void shed_if_full(WorkerPool const& pool);

/// Typed wrapper: `auto n = co_await run_in(pool, [&](std::size_t) { return 42; });`
template <class F>
auto run_in(WorkerPool& pool, F f) -> Awaitable<std::invoke_result_t<F&, std::size_t>> {
  using R = std::invoke_result_t<F&, std::size_t>;
  if constexpr (std::is_void_v<R>) {
    co_await run_on_pool(pool, [&f](std::size_t w) { f(w); });
  } else {
    std::optional<R> result;
    co_await run_on_pool(pool, [&f, &result](std::size_t w) { result.emplace(f(w)); });
    co_return std::move(*result);
  }
}

}  // namespace bookspace::core
