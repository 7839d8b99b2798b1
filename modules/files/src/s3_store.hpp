#pragma once

// Private to the files module: the S3 blob store's classes (issue 24, decision 0015), split over
// s3_store.cpp (the store, plain uploads, sweeps), s3_tus.cpp (resumable uploads) and
// s3_reader.cpp (downloads). Blocking; the files I/O pool and transfer threads call them.

#include "blob_store.hpp"
#include "s3_client.hpp"
#include "store.hpp"

#include "core/database.hpp"
#include "core/ids.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <unordered_map>

namespace bookspace::files::s3 {

namespace fs = std::filesystem;
namespace json = boost::json;

inline constexpr std::uint64_t min_part = 5u << 20;  ///< S3's smallest part but the last
inline constexpr std::size_t reader_buffer = 4u << 20;
inline constexpr std::size_t max_in_flight = 2;  ///< parts of one upload being sent at once
inline constexpr std::string_view tus_prefix = "blobs/tus-";

inline long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string this_host() {
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

inline bool valid_hash(std::string const& sha256) {
  return sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
}

inline bool valid_upload_id(std::string const& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

class S3Store;

/// One upload: parts go up while the next fills; the object is mapped to its hash at commit.
class S3Writer final : public BlobStore::Writer {
 public:
  S3Writer(S3Store& store, std::string key);
  ~S3Writer() override;
  void digest(std::string_view bytes) override { sha_.update(bytes); }
  void store(std::string_view bytes) override;
  std::uint64_t written() const override { return written_; }
  BlobStore::Stored commit() override;

 private:
  void send_part();
  void wait_part();
  S3Store& store_;
  S3Client& s3_;
  std::string key_, upload_id_;
  std::string filling_;
  std::deque<std::future<S3Part>> in_flight_;  ///< oldest first, at most max_in_flight
  std::vector<S3Part> parts_;
  core::Sha256 sha_;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

/// A tus upload's bytes since its last part, and its parts: see the file comment.
struct PartialState {
  std::string upload_id;
  std::vector<std::pair<S3Part, std::uint64_t>> parts;  ///< and their sizes
  std::string pending_key;
  std::uint64_t pending_size = 0;

  std::uint64_t total() const {
    std::uint64_t n = pending_size;
    for (auto const& p : parts) n += p.second;
    return n;
  }
  std::string text() const {
    if (upload_id.empty() && pending_key.empty()) return {};
    json::array ps;
    for (auto const& [part, size] : parts) ps.push_back(json::array{part.number, part.etag, size});
    return json::serialize(json::object{
        {"upload", upload_id}, {"parts", ps}, {"pending", pending_key}, {"pending_size", pending_size}});
  }
  static PartialState parse(std::string const& text) {
    PartialState s;
    if (text.empty()) return s;
    auto v = json::parse(text).as_object();
    s.upload_id = json::value_to<std::string>(v.at("upload"));
    for (auto const& p : v.at("parts").as_array()) {
      auto const& a = p.as_array();
      s.parts.push_back(
          {S3Part{static_cast<int>(a.at(0).to_number<std::int64_t>()), json::value_to<std::string>(a.at(1))},
           a.at(2).to_number<std::uint64_t>()});
    }
    s.pending_key = json::value_to<std::string>(v.at("pending"));
    s.pending_size = v.at("pending_size").to_number<std::uint64_t>();
    return s;
  }
};

class S3Partial final : public BlobStore::Partial {
 public:
  S3Partial(S3Store& store, std::string id, std::uint64_t offset, std::string const& state);
  void write(std::string_view bytes) override;
  std::uint64_t sync() override;
  std::string state() const override { return state_.text(); }

 private:
  void send_part();
  S3Store& store_;
  S3Client& s3_;
  std::string id_, key_;
  PartialState state_;
  std::string buffer_;  ///< the pending bytes (if any) and what came since
};

/// A download: a thread GETs the range into a bounded buffer; the reader drains it.
class S3Reader final : public BlobStore::Reader {
 public:
  S3Reader(S3Store& store, std::string sha256, std::string key, std::uint64_t first, std::uint64_t length);
  ~S3Reader() override;
  std::string take() override;
  std::string wait() override;

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::string buffer;
    bool done = false, cancelled = false;
    std::exception_ptr failure;
  };
  static void fetch(S3Store& store, std::shared_ptr<Shared> shared, std::string const& sha256,
                    std::string key, std::uint64_t first, std::uint64_t length);
  S3Store& store_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

class S3Store final : public BlobStore {
 public:
  S3Store(S3Config config, core::Database& db, fs::path scratch)
      : s3_(std::move(config)), db_(db), scratch_(std::move(scratch)) {
    fs::create_directories(scratch_);
  }
  ~S3Store() override {
    // Detached download threads hold the client: wait for them (each stops at its next chunk).
    std::unique_lock lock(readers_mutex_);
    readers_cv_.wait(lock, [this] { return readers_ == 0; });
  }

  S3Client& client() { return s3_; }
  core::Database& db() { return db_; }
  std::uint64_t part_size() const { return s3_.config().part_size; }
  void reader_started() {
    std::lock_guard lock(readers_mutex_);
    ++readers_;
  }
  void writer_started(std::string const& key) {
    std::lock_guard lock(writers_mutex_);
    writing_.insert(key);
  }
  void writer_ended(std::string const& key, bool left_upload) {
    std::lock_guard lock(writers_mutex_);
    writing_.erase(key);
    if (left_upload) orphans_ = true;
  }
  bool writing(std::string const& key) {
    std::lock_guard lock(writers_mutex_);
    return writing_.contains(key);
  }
  void reader_ended() {
    std::lock_guard lock(readers_mutex_);
    if (--readers_ == 0) readers_cv_.notify_all();
  }

  /// The object holding `sha256`: mapped by this upload, or the earlier one (ours deleted).
  std::string map(std::string const& sha256, std::string const& key, std::uint64_t size) {
    std::string winner = db_.run_waiting([&](soci::session& sql) {
      return map_blob_object(sql, sha256, key, static_cast<std::int64_t>(size), now_ms());
    });
    if (winner != key) {
      try {
        s3_.delete_object(key);
      } catch (S3Error const&) {
        // left for the stray sweep (an object under blobs/ that no row maps)
      }
    }
    return winner;
  }

  std::optional<std::string> key_of(std::string const& sha256) {
    if (!valid_hash(sha256)) return std::nullopt;
    {
      std::lock_guard lock(keys_mutex_);
      if (auto it = keys_.find(sha256); it != keys_.end()) return it->second;
    }
    auto key = db_.run_waiting([&](soci::session& sql) { return blob_object(sql, sha256); });
    if (key) {
      std::lock_guard lock(keys_mutex_);
      if (keys_.size() > 4096) keys_.clear();
      keys_[sha256] = *key;
    }
    return key;
  }

  /// The mapping as the database has it now (the cache refreshed).
  std::optional<std::string> fresh_key(std::string const& sha256) {
    {
      std::lock_guard lock(keys_mutex_);
      keys_.erase(sha256);
    }
    return key_of(sha256);
  }

  std::unique_ptr<Writer> create() override {
    return std::make_unique<S3Writer>(
        *this, "blobs/" + this_host() + "-" + std::to_string(::getpid()) + "-" + core::random_hex(16));
  }

  std::unique_ptr<Partial> append(std::string const& id, std::uint64_t offset,
                                  std::string const& state) override {
    if (!valid_upload_id(id)) throw std::invalid_argument("bad upload id");
    return std::make_unique<S3Partial>(*this, id, offset, state);
  }

  int open_partial(std::string const&) const override { return -1; }  // adopt_partial instead

  void remove_partial(std::string const& id) override {
    if (!valid_upload_id(id)) return;
    for (auto const& u : s3_.list_multipart(std::string(tus_prefix) + id))
      if (u.key == std::string(tus_prefix) + id) s3_.abort_multipart(u.key, u.upload_id);
    for (auto const& o : s3_.list_objects("uploads/" + id + "/", "")) s3_.delete_object(o.key);
  }

  fs::path scratch_path(std::string_view suffix) override {
    return scratch_ / (this_host() + "-" + std::to_string(::getpid()) + "-" + core::random_hex(16) +
                       std::string(suffix));
  }

  int open(std::string const& sha256) const override;
  bool remove(std::string const& sha256, std::int64_t younger_than_s) override;
  std::size_t sweep_temporary() override;
  void each_stored(std::int64_t older_than_s,
                   std::function<bool(std::string const&, bool)> const& fn) const override;

  bool streams() const override { return true; }
  bool presigns() const override { return s3_.config().presign_downloads; }
  std::unique_ptr<Reader> read(std::string const& sha256, std::uint64_t first,
                               std::uint64_t length) override {
    auto key = key_of(sha256);
    if (!key) return nullptr;
    return std::make_unique<S3Reader>(*this, sha256, *key, first, length);
  }
  std::optional<std::string> presigned(std::string const& sha256, std::int64_t seconds,
                                       std::string const& content_type,
                                       std::string const& disposition) override {
    if (!s3_.config().presign_downloads) return std::nullopt;
    auto key = key_of(sha256);
    if (!key) return std::nullopt;
    return s3_.presign_get(
        *key, seconds,
        {{"response-content-type", content_type}, {"response-content-disposition", disposition}});
  }
  std::optional<Stored> adopt_partial(std::string const& id, std::string const& state,
                                      std::function<void(std::string_view)> const& head) override;
  std::optional<std::string> check() override {
    try {
      s3_.check_bucket();
      // A writer that could not abort its multipart upload (S3 was away) left it: gone now.
      if (orphans_.exchange(false)) sweep_temporary();
      return std::nullopt;
    } catch (S3Error const& e) {
      if (e.status() == 0) return "unreachable";
      if (e.status() == 403) return "forbidden";
      if (e.status() == 404) return "no_bucket";
      return "error_" + std::to_string(e.status());
    }
  }

 private:
  mutable S3Client s3_;
  core::Database& db_;
  fs::path scratch_;
  std::mutex keys_mutex_;
  std::unordered_map<std::string, std::string> keys_;  ///< hash → object (mappings never change)
  std::mutex readers_mutex_;
  std::condition_variable readers_cv_;
  std::size_t readers_ = 0;
  std::mutex writers_mutex_;
  std::set<std::string> writing_;  ///< keys of this process's writers alive now
  std::atomic<bool> orphans_{false};
};

}  // namespace bookspace::files::s3
