#include "core/group_commit.hpp"

#include "core/database.hpp"
#include "core/log.hpp"
#include "core/prepared.hpp"

#include <soci/soci.h>

#include <vector>

namespace bookspace::core {

GroupCommitter::GroupCommitter(std::unique_ptr<Session> session, Logger& log, std::size_t max_queue,
                               std::size_t max_batch)
    : session_(std::move(session)), log_(log), max_queue_(max_queue), max_batch_(max_batch) {
  thread_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() {
  stop();
}

bool GroupCommitter::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::size_t GroupCommitter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void GroupCommitter::run() {
  std::deque<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void GroupCommitter::commit_batch(std::deque<Job>& batch) {
  soci::session& sql = *session_;
  std::vector<std::exception_ptr> errors(batch.size());
  std::vector<std::unique_ptr<Tx>> txs;
  txs.reserve(batch.size());
  try {
    exec_script(sql, Dialect::sqlite, "BEGIN IMMEDIATE");
  } catch (...) {
    auto error = std::current_exception();
    for (auto& job : batch) job.done(error);
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& tx = txs.emplace_back(std::make_unique<Tx>(sql, Dialect::sqlite));
    try {
      exec_script(sql, Dialect::sqlite, "SAVEPOINT request");
      batch[i].body(*tx);
      exec_script(sql, Dialect::sqlite, "RELEASE request");
    } catch (...) {
      errors[i] = std::current_exception();
      try {
        exec_script(sql, Dialect::sqlite, "ROLLBACK TO request; RELEASE request");
      } catch (std::exception const& e) {
        log_.error("group commit: rollback to savepoint failed", {{"error", e.what()}});
      }
    }
  }
  std::exception_ptr commit_error;
  try {
    exec_script(sql, Dialect::sqlite, "COMMIT");
  } catch (...) {
    commit_error = std::current_exception();
    try {
      exec_script(sql, Dialect::sqlite, "ROLLBACK");
    } catch (std::exception const&) {
      // Nothing more to undo.
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (errors[i] || commit_error) {
      batch[i].done(errors[i] ? errors[i] : commit_error);
      continue;
    }
    std::exception_ptr hook_error;
    try {
      txs[i]->run_commit_hooks();
    } catch (...) {
      hook_error = std::current_exception();  // as run_transaction: the caller sees it
    }
    batch[i].done(hook_error);
  }
}

}  // namespace bookspace::core
