#include "core/log_writer.hpp"

#include <unistd.h>

#include <cerrno>

namespace bookspace::core {

LogWriter::LogWriter(Options options) : options_(options) {
  pending_.reserve(options_.capacity);
  thread_ = std::thread([this] { run(); });
}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool LogWriter::append(std::string_view line, bool urgent) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > options_.capacity) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    pending_.append(line);
    ++appended_;
    if (urgent) flush_requested_ = true;
    wake = urgent || pending_.size() >= options_.capacity / 2;
  }
  if (wake) wake_.notify_one();
  return true;
}

void LogWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = appended_;
  flush_requested_ = true;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return written_ >= target || stopping_; });
}

void LogWriter::run() {
  std::string out;
  out.reserve(options_.capacity);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.flush_interval,
                   [&] { return stopping_ || flush_requested_ || pending_.size() >= options_.capacity / 2; });
    // Lines that arrived within the interval are written together: a line waits at most
    // flush_interval, unless flush() or a half-full buffer asks for it sooner.
    flush_requested_ = false;
    if (pending_.empty()) {
      if (stopping_) break;
      continue;
    }
    out.swap(pending_);
    const std::uint64_t lines = appended_;
    lock.unlock();
    write_out(out);
    out.clear();
    lock.lock();
    written_ = lines;
    flushed_.notify_all();
  }
  flushed_.notify_all();
}

void LogWriter::write_out(std::string const& bytes) {
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t n = ::write(options_.fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to write: the lines are lost, the server goes on
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace bookspace::core
