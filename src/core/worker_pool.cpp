#include "core/worker_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

namespace bookspace::core {

WorkerPool::WorkerPool(std::string name, std::size_t threads, std::size_t max_queue, int nice)
    : name_(std::move(name)), max_queue_(max_queue) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i, nice] {
      // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value alone. Failure
      // (e.g. no permission to change it) only costs latency elsewhere, never correctness.
      if (nice != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
      work(i);
    });
  }
}

WorkerPool::~WorkerPool() {
  stop();
}

bool WorkerPool::try_submit(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queue_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkerPool::work(std::size_t index) {
  for (;;) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    busy_.fetch_add(1, std::memory_order_relaxed);
    task(index);  // tasks catch their own exceptions (see async.cpp)
    busy_.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace bookspace::core
