#pragma once

// What the server does about a full disk: a small reserve file in the data directory, released
// the first time a write fails for want of space, so that deletes (which SQLite must write to
// its WAL too) still work and users can free room; re-made once there is room again.

#include <cstdint>
#include <mutex>
#include <string>

namespace bookspace::core {

class Counter;
class Logger;
class Metrics;

class DiskGuard {
 public:
  static constexpr std::uint64_t default_reserve = 8u << 20;

  /// Makes the reserve `<dir>/.disk-reserve` (when there is room for it).
  DiskGuard(std::string dir, Logger& log, Metrics& metrics, std::uint64_t reserve_bytes = default_reserve);

  /// A write failed because the disk is full (any thread): counted in bookspace_disk_full_total,
  /// logged once per episode, the reserve released.
  void full();
  /// Periodically (the scheduler): once the disk has room for twice the reserve again, the
  /// reserve is made anew and the episode ends.
  void check();
  bool in_episode() const;

 private:
  bool make_reserve();

  std::string path_;
  std::string dir_;
  Logger& log_;
  Counter& full_total_;
  std::uint64_t reserve_bytes_;
  mutable std::mutex mutex_;
  bool episode_ = false;
  bool reserved_ = false;
};

}  // namespace bookspace::core
