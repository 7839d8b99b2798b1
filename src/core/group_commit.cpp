#include "core/group_commit.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "core/prepared.hpp"
#include "core/tx.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <vector>

namespace bookspace::core {

namespace {

// Run for every transaction of every batch: compiled once (exec_sqlite_kept).
constexpr std::string_view begin_sql = "BEGIN IMMEDIATE";
constexpr std::string_view savepoint_sql = "SAVEPOINT request";
constexpr std::string_view release_sql = "RELEASE request";
constexpr std::string_view commit_sql = "COMMIT";

}  // namespace

GroupCommitter::GroupCommitter(std::unique_ptr<Session> session, Logger& log, std::size_t max_queue,
                               std::int64_t wal_limit_bytes, std::size_t max_batch)
    : session_(std::move(session)), log_(log), max_queue_(max_queue), max_batch_(max_batch) {
  if (wal_limit_bytes > 0) {
    int page_size = 4096;
    *session_ << "PRAGMA page_size", soci::into(page_size);
    *session_ << "PRAGMA busy_timeout", soci::into(busy_timeout_ms_);
    wal_limit_frames_ =
        static_cast<int>(std::max<std::int64_t>(1, wal_limit_bytes / std::max(page_size, 512)));
    wal_next_restart_ = wal_limit_frames_;
    track_wal_frames(*session_, &wal_frames_);
  }
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
    batches_.fetch_add(1, std::memory_order_relaxed);
    transactions_.fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
    bound_wal();
  }
}

void GroupCommitter::bound_wal() {
  if (wal_limit_frames_ == 0) return;
  if (wal_frames_ < wal_next_restart_) {
    // The WAL started over (a RESTART, or a passive checkpoint that caught up during a pause).
    if (wal_frames_ < wal_limit_frames_) wal_next_restart_ = wal_limit_frames_;
    return;
  }
  soci::session& sql = *session_;
  int busy = 1, log_frames = 0, checkpointed = 0;
  try {
    exec_script(sql, Dialect::sqlite, "PRAGMA busy_timeout=200");
    sql << "PRAGMA wal_checkpoint(RESTART)", soci::into(busy), soci::into(log_frames),
        soci::into(checkpointed);
  } catch (std::exception const& e) {
    log_.warn("WAL restart checkpoint failed", {{"error", e.what()}});
  }
  try {
    exec_script(sql, Dialect::sqlite, "PRAGMA busy_timeout=" + std::to_string(busy_timeout_ms_));
  } catch (std::exception const& e) {
    log_.error("group commit: busy_timeout not restored", {{"error", e.what()}});
  }
  // Done: the next commit starts the WAL over (and cuts the file back to journal_size_limit).
  // Readers or the passive checkpointer kept it: try again once it has grown by a quarter limit.
  wal_next_restart_ = busy == 0 ? wal_limit_frames_ : wal_frames_ + std::max(1, wal_limit_frames_ / 4);
  log_.debug("WAL restart checkpoint", {{"frames", log_frames}, {"done", busy == 0}});
}

void GroupCommitter::commit_batch(std::deque<Job>& batch) {
  soci::session& sql = *session_;
  std::vector<std::exception_ptr> errors(batch.size());
  std::vector<std::unique_ptr<Tx>> txs;
  txs.reserve(batch.size());
  try {
    exec_sqlite_kept(sql, begin_sql);
  } catch (...) {
    auto error = std::current_exception();
    for (auto& job : batch) job.done(error);
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& tx = txs.emplace_back(std::make_unique<Tx>(sql, Dialect::sqlite));
    try {
      exec_sqlite_kept(sql, savepoint_sql);
      batch[i].body(*tx);
      exec_sqlite_kept(sql, release_sql);
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
    exec_sqlite_kept(sql, commit_sql);
  } catch (...) {
    commit_error = std::current_exception();
    try {
      exec_script(sql, Dialect::sqlite, "ROLLBACK");
    } catch (std::exception const&) {
      // Nothing more to undo.
    }
  }
  const ResumeBatch resumes;  // one wake-up per io thread for the whole batch
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
