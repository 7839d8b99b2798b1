// The S3 blob store (issue 24). Content dedup is kept although the object key is not the hash
// (a hash is only known once every byte went up, and S3 has no cheap rename): each upload writes
// its own object, then files_blob_objects maps the hash to the first object that held it, and a
// duplicate's object is deleted. Uploads go up as multipart uploads in part_size parts, three
// parts in memory at most (one filling, two in flight). Resumable uploads: s3_tus.cpp;
// downloads: s3_reader.cpp; the classes: s3_store.hpp.

#include "s3_store.hpp"

#include "store.hpp"

#include <soci/soci.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>

namespace bookspace::files::s3 {

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

}  // namespace bookspace::files::s3

namespace bookspace::files {

std::unique_ptr<BlobStore> s3_blob_store(S3Config config, core::Database& db,
                                         std::filesystem::path scratch_root) {
  return std::make_unique<s3::S3Store>(std::move(config), db, std::move(scratch_root));
}

}  // namespace bookspace::files
