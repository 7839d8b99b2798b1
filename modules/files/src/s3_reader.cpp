// The S3 store's downloads: a thread GETs the range into a bounded buffer the connection drains,
// resuming with a Range when the fetch breaks off.

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

}  // namespace bookspace::files::s3
