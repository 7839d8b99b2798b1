#pragma once

// A small, bounded, thread-safe map whose entries expire: the kernel's one TTL cache (auth's
// verified tokens, files' open contents, search's document counts).

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bookspace::core {

/// Entries keyed by string, each with its own expiry in `Time` (a steady_clock time point, or
/// core::TimeMs for a cache that follows a testable clock). At most `capacity` entries: putting
/// one into a full cache drops the expired ones first and, when none had expired, everything —
/// every entry is a lookup or a computation away, so starting over costs one miss each. One
/// mutex; lookups take it once.
template <class Value, class Time = std::chrono::steady_clock::time_point>
class TtlCache {
 public:
  explicit TtlCache(std::size_t capacity) : capacity_(capacity) {}

  /// The value of `key` while `now` is before its expiry; an expired entry is dropped.
  std::optional<Value> find(std::string_view key, Time now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (!(now < it->second.expires)) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  /// Keeps `value` under `key` until `expires` (replacing what was there).
  void put(std::string key, Value value, Time expires, Time now) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_ && !entries_.contains(key)) {
      std::erase_if(entries_, [&](auto const& e) { return !(now < e.second.expires); });
      if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(std::move(key), Entry{std::move(value), expires});
  }

  /// The value of `key` while fresh, else `make()`'s, kept until `expires`. `make` runs outside
  /// the lock: two callers that miss together may both make it (both right).
  template <class Make>
  Value get_or_make(std::string_view key, Time now, Time expires, Make&& make) {
    if (auto kept = find(key, now)) return std::move(*kept);
    Value value = std::forward<Make>(make)();
    put(std::string(key), value, expires, now);
    return value;
  }

  void erase(std::string_view key) {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) entries_.erase(it);
  }

  /// Drops every entry whose value matches.
  template <class Pred>
  void erase_if(Pred pred) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](auto const& e) { return pred(e.second.value); });
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    Value value;
    Time expires;
  };
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace bookspace::core
