#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace bookspace::core {

/// Log lines off the request path, the way nginx's `access_log … buffer= flush=` works: callers
/// append to an in-memory buffer (a short lock, no system call), one background thread writes it
/// out in large writes when it is half full or every `flush_interval`, whichever comes first.
/// When the buffer is full, a line is dropped and counted, never waited for: a slow disk or a
/// blocked pipe can cost log lines, not latency. Flushed by flush() and on destruction.
class LogWriter {
 public:
  struct Options {
    int fd = 2;                                     ///< where lines go (stderr by default)
    std::size_t capacity = 4u << 20;                ///< bytes buffered at most
    std::chrono::milliseconds flush_interval{200};  ///< at most this late
  };

  explicit LogWriter(Options options);
  LogWriter() : LogWriter(Options{}) {}
  ~LogWriter();
  LogWriter(LogWriter const&) = delete;
  LogWriter& operator=(LogWriter const&) = delete;

  /// Appends one whole line (with its newline); false (and counted) when the buffer is full.
  /// `urgent` (warnings, errors) has it written out now rather than within flush_interval,
  /// still without waiting for the write.
  bool append(std::string_view line, bool urgent = false);
  /// Writes out everything appended so far before returning.
  void flush();
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run();
  void write_out(std::string const& bytes);

  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::string pending_;
  std::uint64_t appended_ = 0;  ///< lines appended (under mutex_)
  std::uint64_t written_ = 0;   ///< lines written out (under mutex_)
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace bookspace::core
