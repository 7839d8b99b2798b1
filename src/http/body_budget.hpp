#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace bookspace::http {

/// A server-wide cap on request-body bytes held in memory at once. A body is admitted only
/// while the total stays under the budget; past it the server answers 503 instead of
/// buffering, so the memory a burst of clients can pin is bounded by configuration.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit) : limit_(limit) {}

  /// Takes `n` more bytes; false (and nothing taken) when that would exceed the budget.
  bool try_take(std::size_t n) {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ || used > limit_ - n) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void give_back(std::size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

  /// Bytes one request holds; returned when the request is done.
  class Share {
   public:
    explicit Share(BodyBudget& budget) : budget_(&budget) {}
    Share(Share const&) = delete;
    Share& operator=(Share const&) = delete;
    ~Share() { budget_->give_back(held_); }
    /// Grows this share to `total` bytes; false when the budget cannot give that much.
    bool grow_to(std::size_t total) {
      if (total <= held_) return true;
      if (!budget_->try_take(total - held_)) return false;
      held_ = total;
      return true;
    }
    std::size_t held() const { return held_; }

   private:
    BodyBudget* budget_;
    std::size_t held_ = 0;
  };

 private:
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace bookspace::http
