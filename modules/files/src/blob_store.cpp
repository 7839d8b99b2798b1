#include "blob_store.hpp"

#include "core/ids.hpp"

#include <sodium.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace bookspace::files {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(std::string const& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void fsync_dir(fs::path const& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("fsync " + dir.string());
}

std::string random_name() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

/// "<host>-<pid>-": whose temporary file it is.
std::string owner_prefix() {
  char host[128] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid()) + "-";
}

bool valid_hash(std::string const& sha256) {
  return sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class LocalWriter final : public BlobStore::Writer {
 public:
  LocalWriter(fs::path root, fs::path temp) : root_(std::move(root)), temp_(std::move(temp)) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) fail("create " + temp_.string());
  }
  ~LocalWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }

  void digest(std::string_view bytes) override { sha_.update(bytes); }
  void store(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("write " + temp_.string());
      bytes.remove_prefix(static_cast<std::size_t>(n));
      written_ += static_cast<std::uint64_t>(n);
    }
    // Start writing back what has accumulated, so that the fsync at commit finds little left:
    // the disk works while the rest of the body arrives (advisory; errors show at the fsync).
    if (written_ - flushed_ >= writeback_step) {
      ::sync_file_range(fd_, static_cast<off64_t>(flushed_), static_cast<off64_t>(written_ - flushed_),
                        SYNC_FILE_RANGE_WRITE);
      flushed_ = written_;
    }
  }
  std::uint64_t written() const override { return written_; }

  BlobStore::Stored commit() override {
    const std::string sha256 = sha_.hex();
    if (::fsync(fd_) != 0) fail("fsync " + temp_.string());
    ::close(fd_);
    fd_ = -1;
    const fs::path dir = root_ / "sha256" / sha256.substr(0, 2) / sha256.substr(2, 2);
    fs::create_directories(dir);
    const fs::path target = dir / sha256;
    // The same content under the same name: replacing it is harmless, and it refreshes the
    // blob's time, which keeps the GC off a blob an upload is about to reference.
    if (::rename(temp_.c_str(), target.c_str()) != 0) fail("rename into " + target.string());
    committed_ = true;
    fsync_dir(dir);
    return {sha256, written_};
  }

 private:
  fs::path root_, temp_;
  int fd_ = -1;
  core::Sha256 sha_;  ///< OpenSSL's: the CPU's SHA extensions, not libsodium's portable code
  static constexpr std::uint64_t writeback_step = 1u << 20;
  std::uint64_t written_ = 0, flushed_ = 0;
  bool committed_ = false;
};

class LocalPartial final : public BlobStore::Partial {
 public:
  LocalPartial(fs::path const& path, std::uint64_t offset) : path_(path), offset_(offset) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) fail("open " + path.string());
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0) fail("truncate " + path.string());
  }
  ~LocalPartial() override { ::close(fd_); }
  void write(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("write " + path_.string());
      bytes.remove_prefix(static_cast<std::size_t>(n));
      offset_ += static_cast<std::uint64_t>(n);
    }
  }
  std::uint64_t sync() override {
    if (::fdatasync(fd_) != 0) fail("fdatasync " + path_.string());
    return offset_;
  }

 private:
  fs::path path_;
  std::uint64_t offset_;
  int fd_ = -1;
};

/// Upload ids are UUIDs: nothing else names a partial file.
bool valid_upload_id(std::string const& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(fs::path root) : root_(std::move(root)) {
    fs::create_directories(root_ / "tmp");
    fs::create_directories(root_ / "sha256");
    fs::create_directories(root_ / "uploads");
  }

  std::unique_ptr<Partial> append(std::string const& id, std::uint64_t offset, std::string const&) override {
    if (!valid_upload_id(id)) throw std::invalid_argument("bad upload id");
    auto partial = std::make_unique<LocalPartial>(root_ / "uploads" / id, offset);
    if (offset == 0) fsync_dir(root_ / "uploads");
    return partial;
  }
  int open_partial(std::string const& id) const override {
    if (!valid_upload_id(id)) return -1;
    return ::open((root_ / "uploads" / id).c_str(), O_RDONLY | O_CLOEXEC);
  }
  void remove_partial(std::string const& id) override {
    if (valid_upload_id(id)) ::unlink((root_ / "uploads" / id).c_str());
  }
  fs::path scratch_path(std::string_view suffix) override {
    return root_ / "tmp" / (owner_prefix() + random_name() + std::string(suffix));
  }

  std::unique_ptr<Writer> create() override {
    return std::make_unique<LocalWriter>(root_, root_ / "tmp" / (owner_prefix() + random_name() + ".part"));
  }

  int open(std::string const& sha256) const override {
    if (!valid_hash(sha256)) return -1;
    return ::open(path_of(sha256).c_str(), O_RDONLY | O_CLOEXEC);
  }

  bool remove(std::string const& sha256, std::int64_t younger_than_s) override {
    if (!valid_hash(sha256)) return false;
    const fs::path path = path_of(sha256);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    const auto age = std::chrono::system_clock::now().time_since_epoch() - std::chrono::seconds(st.st_mtime);
    if (age < std::chrono::seconds(younger_than_s)) return false;
    return ::unlink(path.c_str()) == 0;
  }

  std::size_t sweep_temporary() override {
    // Several instances may share the volume: only this host's files of processes that are gone
    // (a kill -9), and anyone's untouched for a day.
    char host[128] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string mine = std::string(host) + "-";
    std::size_t n = 0;
    for (auto const& entry : fs::directory_iterator(root_ / "tmp")) {
      const std::string name = entry.path().filename().string();
      bool orphan = false;
      if (name.starts_with(mine)) {
        const auto dash = name.find('-', mine.size());
        const pid_t pid = static_cast<pid_t>(std::atol(name.substr(mine.size(), dash - mine.size()).c_str()));
        orphan = pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
      }
      std::error_code ec;
      const auto age = fs::file_time_type::clock::now() - fs::last_write_time(entry.path(), ec);
      if (!ec && age > std::chrono::hours(24)) orphan = true;
      if (orphan && fs::remove(entry.path(), ec)) ++n;
    }
    return n;
  }

  void each_stored(std::int64_t older_than_s,
                   std::function<bool(std::string const&, bool)> const& fn) const override {
    const auto now = fs::file_time_type::clock::now();
    auto old_enough = [&](fs::directory_entry const& e) {
      std::error_code ec;
      const auto written = e.last_write_time(ec);
      return !ec && now - written > std::chrono::seconds(older_than_s);
    };
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_ / "sha256", ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && valid_hash(name) && old_enough(*it) && !fn(name, false)) return;
    }
    for (fs::directory_iterator it(root_ / "uploads", ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && valid_upload_id(name) && old_enough(*it) && !fn(name, true)) return;
    }
  }

 private:
  fs::path path_of(std::string const& sha256) const {
    return root_ / "sha256" / sha256.substr(0, 2) / sha256.substr(2, 2) / sha256;
  }
  fs::path root_;
};

}  // namespace

std::unique_ptr<BlobStore> local_blob_store(std::filesystem::path root) {
  return std::make_unique<LocalBlobStore>(std::move(root));
}

}  // namespace bookspace::files
