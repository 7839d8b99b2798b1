// The S3 blob store (issue 24). Content dedup is kept although the object key is not the hash
// (a hash is only known once every byte went up, and S3 has no cheap rename): each upload writes
// its own object, then files_blob_objects maps the hash to the first object that held it, and a
// duplicate's object is deleted. Uploads go up as multipart uploads in part_size parts, two parts
// in memory at most (one filling, one in flight); tus uploads keep their multipart upload and
// the bytes short of a part (in a pending object) in the state saved with their offset, so any
// instance continues them.

#include "blob_store.hpp"
#include "s3_client.hpp"
#include "store.hpp"

#include "core/database.hpp"

#include <openssl/evp.h>
#include <soci/soci.h>
#include <sodium.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

namespace bookspace::files {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::uint64_t min_part = 5u << 20;  ///< S3's smallest part but the last
constexpr std::size_t reader_buffer = 4u << 20;
constexpr std::size_t max_in_flight = 2;  ///< parts of one upload being sent at once
constexpr std::string_view tus_prefix = "blobs/tus-";

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(2 * bytes + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<unsigned char const*>(raw.data()), raw.size());
  out.pop_back();
  return out;
}

std::string this_host() {
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

bool valid_hash(std::string const& sha256) {
  return sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool valid_upload_id(std::string const& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

class Sha256 {
 public:
  Sha256() {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256 unavailable");
  }
  void update(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1) throw std::runtime_error("SHA-256 failed");
    char out[2 * EVP_MAX_MD_SIZE + 1];
    sodium_bin2hex(out, sizeof out, digest, length);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

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
  Sha256 sha_;
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
        *this, "blobs/" + this_host() + "-" + std::to_string(::getpid()) + "-" + random_hex(16));
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
    return scratch_ /
           (this_host() + "-" + std::to_string(::getpid()) + "-" + random_hex(16) + std::string(suffix));
  }

  int open(std::string const& sha256) const override;
  bool remove(std::string const& sha256, std::int64_t younger_than_s) override;
  std::size_t sweep_temporary() override;
  void each_stored(std::int64_t older_than_s,
                   std::function<bool(std::string const&, bool)> const& fn) const override;

  bool streams() const override { return true; }
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

// --- S3Writer ------------------------------------------------------------------------------------

S3Writer::S3Writer(S3Store& store, std::string key)
    : store_(store), s3_(store.client()), key_(std::move(key)) {
  store_.writer_started(key_);
  filling_.reserve(store_.part_size());
}

S3Writer::~S3Writer() {
  bool left = false;
  try {
    for (auto& part : in_flight_) part.wait();
    if (!committed_ && !upload_id_.empty()) s3_.abort_multipart(key_, upload_id_);
  } catch (std::exception const&) {
    left = true;  // the store sweeps it once S3 answers again (S3Store::check)
  }
  store_.writer_ended(key_, left);
}

void S3Writer::store(std::string_view bytes) {
  written_ += bytes.size();
  while (!bytes.empty()) {
    const std::size_t room = store_.part_size() - filling_.size();
    const std::size_t n = std::min(room, bytes.size());
    filling_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (filling_.size() == store_.part_size()) send_part();
  }
}

void S3Writer::wait_part() {
  parts_.push_back(in_flight_.front().get());
  in_flight_.pop_front();
}

/// A filled part goes up on its own thread while the next fills: with two in flight the S3
/// server works on two requests at once, and the upload holds three parts in memory at most.
void S3Writer::send_part() {
  if (upload_id_.empty()) upload_id_ = s3_.create_multipart(key_);
  if (in_flight_.size() >= max_in_flight) wait_part();
  const int number = static_cast<int>(parts_.size() + in_flight_.size()) + 1;
  in_flight_.push_back(std::async(std::launch::async, [this, number, bytes = std::move(filling_)] {
    return S3Part{number, s3_.upload_part(key_, upload_id_, number, bytes)};
  }));
  filling_ = std::string();
  filling_.reserve(store_.part_size());
}

BlobStore::Stored S3Writer::commit() {
  const std::string sha256 = sha_.hex();
  if (upload_id_.empty()) {
    s3_.put_object(key_, filling_, sha256);  // one request; its payload hash is the content's
  } else {
    if (!filling_.empty()) send_part();
    while (!in_flight_.empty()) wait_part();
    s3_.complete_multipart(key_, upload_id_, parts_);
  }
  committed_ = true;
  store_.map(sha256, key_, written_);
  return {sha256, written_};
}

// --- S3Partial -----------------------------------------------------------------------------------

S3Partial::S3Partial(S3Store& store, std::string id, std::uint64_t offset, std::string const& state)
    : store_(store), s3_(store.client()), id_(std::move(id)), key_(std::string(tus_prefix) + id_) {
  state_ = PartialState::parse(state);
  if (state_.total() != offset)
    throw std::runtime_error("the upload's stored state does not match its offset");
  if (state_.pending_size > 0) {
    buffer_.reserve(state_.pending_size);
    s3_.get_object(state_.pending_key, 0, std::nullopt, [this](std::string_view bytes) {
      buffer_.append(bytes);
      return true;
    });
    if (buffer_.size() != state_.pending_size)
      throw std::runtime_error("the upload's pending bytes are short");
  }
  // Pending objects of earlier requests that the saved state no longer names.
  for (auto const& o : s3_.list_objects("uploads/" + id_ + "/", ""))
    if (o.key != state_.pending_key) s3_.delete_object(o.key);
}

void S3Partial::write(std::string_view bytes) {
  buffer_.append(bytes);
  if (buffer_.size() >= store_.part_size()) send_part();
}

void S3Partial::send_part() {
  if (state_.upload_id.empty()) state_.upload_id = s3_.create_multipart(key_);
  const int number = static_cast<int>(state_.parts.size()) + 1;
  const std::string etag = s3_.upload_part(key_, state_.upload_id, number, buffer_);
  state_.parts.push_back({S3Part{number, etag}, buffer_.size()});
  state_.pending_key.clear();
  state_.pending_size = 0;
  buffer_.clear();
}

std::uint64_t S3Partial::sync() {
  if (buffer_.size() >= min_part) {
    send_part();
  } else if (buffer_.size() != state_.pending_size) {
    // Short of a part: kept in an object of its own, named by its place, until it fills.
    const std::string key = "uploads/" + id_ + "/pending-" +
                            std::to_string(state_.total() - state_.pending_size) + "-" +
                            std::to_string(buffer_.size());
    s3_.put_object(key, buffer_, sigv4::sha256_hex(buffer_));
    state_.pending_key = key;
    state_.pending_size = buffer_.size();
  }
  return state_.total();
}

std::optional<BlobStore::Stored> S3Store::adopt_partial(std::string const& id, std::string const& state,
                                                        std::function<void(std::string_view)> const& head) {
  const auto st = PartialState::parse(state);
  const std::string key = std::string(tus_prefix) + id;
  std::string pending;
  if (st.pending_size > 0)
    s3_.get_object(st.pending_key, 0, std::nullopt, [&](std::string_view bytes) {
      pending.append(bytes);
      return true;
    });
  if (st.upload_id.empty()) {
    s3_.put_object(key, pending, sigv4::sha256_hex(pending));
  } else {
    std::vector<S3Part> parts;
    for (auto const& p : st.parts) parts.push_back(p.first);
    if (!pending.empty())
      parts.push_back({static_cast<int>(parts.size()) + 1,
                       s3_.upload_part(key, st.upload_id, static_cast<int>(parts.size()) + 1, pending)});
    s3_.complete_multipart(key, st.upload_id, parts);
  }
  // The hash needs every byte once: read back (the bytes came over several requests, maybe
  // to several instances, so no one process saw them all).
  Sha256 sha;
  std::string first;
  std::uint64_t size = 0;
  s3_.get_object(key, 0, std::nullopt, [&](std::string_view bytes) {
    sha.update(bytes);
    size += bytes.size();
    if (first.size() < 256 * 1024) first.append(bytes.substr(0, 256 * 1024 - first.size()));
    return true;
  });
  head(first);
  const std::string sha256 = sha.hex();
  map(sha256, key, size);
  for (auto const& o : s3_.list_objects("uploads/" + id + "/", "")) s3_.delete_object(o.key);
  return Stored{sha256, size};
}

// --- S3Reader ------------------------------------------------------------------------------------

S3Reader::S3Reader(S3Store& store, std::string sha256, std::string key, std::uint64_t first,
                   std::uint64_t length)
    : store_(store) {
  store_.reader_started();
  std::thread(&S3Reader::fetch, std::ref(store_), shared_, std::move(sha256), std::move(key), first, length)
      .detach();
}

S3Reader::~S3Reader() {
  std::lock_guard lock(shared_->mutex);
  shared_->cancelled = true;
  shared_->cv.notify_all();
}

void S3Reader::fetch(S3Store& store, std::shared_ptr<Shared> shared, std::string const& sha256,
                     std::string key, std::uint64_t first, std::uint64_t length) {
  std::uint64_t at = first;
  const std::uint64_t end = first + length;
  // A failed GET resumes from where it stopped (a GET is idempotent): a restart of the S3 server
  // mid-download costs a pause, not the download — up to 30 s without progress.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool refreshed = false;
  for (int attempt = 0; at < end;) {
    const std::uint64_t before = at;
    try {
      store.client().get_object(key, at, end - 1, [&](std::string_view bytes) {
        std::unique_lock lock(shared->mutex);
        // Backpressure: wait while the buffer is full (the client reads slowly).
        if (!shared->cv.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return shared->cancelled || shared->buffer.size() < reader_buffer; }))
          return false;
        if (shared->cancelled) return false;
        const auto n = std::min<std::uint64_t>(bytes.size(), end - at);
        shared->buffer.append(bytes.substr(0, n));
        at += n;
        shared->cv.notify_all();
        return true;
      });
      std::lock_guard lock(shared->mutex);
      if (shared->cancelled) break;
      if (at < end && at == before) throw std::runtime_error("S3 answered fewer bytes than the object has");
    } catch (S3Error const& e) {
      // A key remembered from before the content was collected and stored again elsewhere
      // (another instance's GC and upload): looked up afresh, once.
      if (e.status() == 404 && !refreshed) {
        refreshed = true;
        if (auto fresh = store.fresh_key(sha256); fresh && *fresh != key) {
          key = *fresh;
          continue;
        }
      }
      std::lock_guard lock(shared->mutex);
      if (shared->cancelled) break;
      if (!e.transient() || std::chrono::steady_clock::now() > deadline) {
        shared->failure = std::current_exception();
        break;
      }
    } catch (...) {
      std::lock_guard lock(shared->mutex);
      shared->failure = std::current_exception();
      break;
    }
    if (at > before) {
      attempt = 0;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    }
    if (at < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 << std::min(attempt++, 5), 2000)));
  }
  {
    std::lock_guard lock(shared->mutex);
    shared->done = true;
    shared->cv.notify_all();
  }
  store.reader_ended();
}

std::string S3Reader::take() {
  std::lock_guard lock(shared_->mutex);
  std::string out;
  out.swap(shared_->buffer);
  shared_->cv.notify_all();
  return out;
}

std::string S3Reader::wait() {
  std::unique_lock lock(shared_->mutex);
  if (!shared_->cv.wait_for(lock, std::chrono::seconds(60),
                            [&] { return !shared_->buffer.empty() || shared_->done; }))
    throw S3Error("GET", 0, "", "no bytes for 60 s");
  if (shared_->buffer.empty() && shared_->failure) std::rethrow_exception(shared_->failure);
  std::string out;
  out.swap(shared_->buffer);
  shared_->cv.notify_all();
  return out;
}

// --- the rest of S3Store -------------------------------------------------------------------------

int S3Store::open(std::string const& sha256) const {
  auto key = const_cast<S3Store*>(this)->key_of(sha256);
  if (!key) return -1;
  // A scratch copy, unlinked at once: extraction, export zips and tus ingestion read descriptors.
  const int fd = ::open(scratch_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "scratch file in " + scratch_.string());
  try {
    s3_.get_object(*key, 0, std::nullopt, [fd](std::string_view bytes) {
      while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
      }
      return true;
    });
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

bool S3Store::remove(std::string const& sha256, std::int64_t younger_than_s) {
  if (!valid_hash(sha256)) return false;
  const long long before = now_ms() - younger_than_s * 1000;
  auto key = db_.run_waiting([&](soci::session& sql) { return unmap_blob_object(sql, sha256, before); });
  if (!key) return false;
  {
    std::lock_guard lock(keys_mutex_);
    keys_.erase(sha256);
  }
  s3_.delete_object(*key);  // a failure leaves an object no row maps: the stray sweep's
  return true;
}

std::size_t S3Store::sweep_temporary() {
  // Multipart uploads of plain uploads whose process is gone (this host's, by pid), this
  // process's that no writer holds, or a day old.
  const std::string mine = this_host() + "-";
  std::size_t n = 0;
  for (auto const& u : s3_.list_multipart("blobs/")) {
    if (u.key.starts_with(tus_prefix)) continue;  // tus uploads: their rows decide (each_stored)
    const std::string name = u.key.substr(6);
    bool orphan = now_ms() - u.initiated_ms > 24LL * 3600 * 1000;
    if (name.starts_with(mine)) {
      const auto dash = name.find('-', mine.size());
      const pid_t pid = static_cast<pid_t>(std::atol(name.substr(mine.size(), dash - mine.size()).c_str()));
      const bool gone = pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
      orphan = orphan || gone || (pid == ::getpid() && !writing(u.key));
    }
    if (orphan) {
      s3_.abort_multipart(u.key, u.upload_id);
      ++n;
    }
  }
  return n;
}

void S3Store::each_stored(std::int64_t older_than_s,
                          std::function<bool(std::string const&, bool)> const& fn) const {
  const long long before = now_ms() - older_than_s * 1000;
  // Mapped contents: the caller asks whether a row still names them.
  std::string after;
  for (;;) {
    auto page =
        db_.run_waiting([&](soci::session& sql) { return mapped_blobs_after(sql, after, before, 500); });
    for (auto const& sha : page)
      if (!fn(sha, false)) return;
    if (page.size() < 500) break;
    after = page.back();
  }
  // Objects no mapping names (a process killed between its upload and the mapping, a
  // duplicate whose delete failed): removed here.
  std::string start;
  for (;;) {
    auto objects = s3_.list_objects("blobs/", start);
    for (auto const& o : objects) {
      if (o.last_modified_ms >= before) continue;
      if (!db_.run_waiting([&](soci::session& sql) { return object_key_mapped(sql, o.key); }))
        s3_.delete_object(o.key);
    }
    if (objects.empty()) break;
    start = objects.back().key;
  }
  // Resumable uploads: their multipart uploads and pending pieces; the caller asks their rows.
  std::set<std::string> ids;
  for (auto const& u : s3_.list_multipart(std::string(tus_prefix)))
    if (u.initiated_ms < before) ids.insert(u.key.substr(tus_prefix.size()));
  for (auto const& o : s3_.list_objects("uploads/", ""))
    if (o.last_modified_ms < before) ids.insert(o.key.substr(8, o.key.find('/', 8) - 8));
  for (auto const& id : ids)
    if (valid_upload_id(id) && !fn(id, true)) return;
}

}  // namespace

std::unique_ptr<BlobStore> s3_blob_store(S3Config config, core::Database& db,
                                         std::filesystem::path scratch_root) {
  return std::make_unique<S3Store>(std::move(config), db, std::move(scratch_root));
}

}  // namespace bookspace::files
