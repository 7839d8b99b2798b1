#include "file_jobs.hpp"

#include "extract.hpp"
#include "rules.hpp"
#include "service.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/text.hpp"

#include <bookspace/documents/documents.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <soci/soci.h>
#include <zip.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace bookspace::files {

namespace json = boost::json;

namespace {

/// Closes a descriptor when it goes.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// --- files.extract_text -------------------------------------------------------------------------

struct RolledBack {};  ///< the file went while the text was published: nothing to say

json::value extract(jobs::JobContext& job, Service& service, core::EventLog& events, std::size_t max_bytes) {
  auto const* id = job.payload().if_contains("file_id");
  if (!id || !id->is_string()) throw std::invalid_argument("payload: file_id (a file's id) is required");
  const std::string file_id(id->as_string());
  const auto file = find_file(job.sql(), file_id);
  if (!file) return json::object{{"skipped", "the file is gone"}};
  if (!extractable(file->content_type)) return json::object{{"skipped", "no text in " + file->content_type}};
  Fd content{service.blobs().open(file->sha256)};
  if (content.fd < 0) throw std::runtime_error("the file's content is missing from the store");
  const auto text = extract_text(content.fd, file->content_type, max_bytes, [&] { return job.cancelled(); });
  if (job.cancelled()) return nullptr;
  try {
    core::run_transaction(job.sql(), service.db().dialect(), [&](core::Tx& tx) {
      // Published first: the event lock orders this after a deletion committing meanwhile, which
      // the check below then sees (search must never get the text of a deleted file last).
      core::publish(events, tx, file->id,
                    TextExtracted{file->id, file->name, file->content_type, file->owner_id, file->document_id,
                                  text.text, text.truncated, service.clock().now_ms()});
      if (!find_file(tx.sql, file->id)) throw RolledBack{};
    });
  } catch (RolledBack const&) {
    return json::object{{"skipped", "the file is gone"}};
  }
  json::object result{{"bytes", text.text.size()},
                      {"characters", core::code_points(text.text)},
                      {"truncated", text.truncated}};
  if (text.pages > 0) result["pages"] = text.pages;
  return result;
}

// --- documents.export ---------------------------------------------------------------------------

constexpr int max_export_documents = 100'000;

/// A name for an archive entry: no separators or control characters, at most 120 bytes.
std::string entry_name(std::string_view title) {
  std::string out;
  for (unsigned char c : title) {
    if (c < 0x20 || c == 0x7F || std::strchr("/\\:*?\"<>|", c)) {
      out += '_';
    } else {
      out += static_cast<char>(c);
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (out.size() > 120) {
    std::size_t cut = 120;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // a whole character
    out.resize(cut);
  }
  return out.empty() || out == "." || out == ".." ? std::string("untitled") : out;
}

/// A path not taken yet: "a/b.png", "a/b (2).png", … (case-insensitively, for case-folding
/// filesystems).
std::string unique_name(std::set<std::string>& taken, std::string const& path) {
  const auto slash = path.rfind('/');
  auto dot = path.rfind('.');
  if (dot == std::string::npos || dot == 0 || (slash != std::string::npos && dot <= slash + 1))
    dot = path.size();
  const std::string stem = path.substr(0, dot), ext = path.substr(dot);
  for (int n = 1;; ++n) {
    std::string name = n == 1 ? stem : stem + " (" + std::to_string(n) + ")";
    name += ext;
    std::string key = name;
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (taken.insert(key).second) return name;
  }
}

std::string markdown_of(documents::Snapshot const& d) {
  // Front matter in YAML; JSON strings are valid YAML scalars, so titles and tags need no other
  // escaping.
  json::array tags;
  for (auto const& t : d.tags) tags.emplace_back(t);
  std::string out = "---\n";
  out += "title: " + json::serialize(json::value(d.title)) + "\n";
  out += "tags: " + json::serialize(tags) + "\n";
  out += "version: " + std::to_string(d.version) + "\n";
  out += "id: " + d.id + "\n";
  out += "created_at: " + core::format_rfc3339(d.created_at) + "\n";
  out += "updated_at: " + core::format_rfc3339(d.updated_at) + "\n";
  out += "---\n\n";
  out += d.content;
  if (!d.content.empty() && d.content.back() != '\n') out += '\n';
  return out;
}

/// An archive entry whose bytes are produced only when libzip writes it (at zip_close), so an
/// export holds one document or one file open at a time, whatever its size.
class LazyEntry {
 public:
  virtual ~LazyEntry() = default;
  virtual bool open() = 0;
  virtual zip_int64_t read(void* into, zip_uint64_t n) = 0;
  virtual void close() {}

  static zip_int64_t callback(void* self, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    auto* entry = static_cast<LazyEntry*>(self);
    switch (cmd) {
      case ZIP_SOURCE_OPEN:
        if (!entry->open()) {
          zip_error_set(&entry->error_, ZIP_ER_OPEN, 0);
          return -1;
        }
        return 0;
      case ZIP_SOURCE_READ:
        return entry->read(data, len);
      case ZIP_SOURCE_CLOSE:
        entry->close();
        return 0;
      case ZIP_SOURCE_STAT: {
        auto* st = static_cast<zip_stat_t*>(data);
        zip_stat_init(st);
        st->mtime = entry->mtime_;
        st->valid |= ZIP_STAT_MTIME;
        return sizeof(zip_stat_t);
      }
      case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&entry->error_, data, len);
      case ZIP_SOURCE_FREE:
        delete entry;
        return 0;
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              ZIP_SOURCE_SUPPORTS, -1);
      default:
        zip_error_set(&entry->error_, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
  }

  std::time_t mtime_ = 0;
  zip_error_t error_{};
};

class DocumentEntry final : public LazyEntry {
 public:
  DocumentEntry(documents::Catalog& catalog, documents::Snapshot meta, std::string user,
                jobs::JobContext& job)
      : catalog_(catalog), meta_(std::move(meta)), user_(std::move(user)), job_(job) {}
  bool open() override {
    if (job_.cancelled()) return false;
    // Read again now: the content was not kept while the archive was laid out. A document that
    // became unreadable meanwhile is exported with the metadata first seen and no content.
    auto now = catalog_.read(meta_.id, user_);
    text_ = markdown_of(now ? *now : meta_);
    at_ = 0;
    return true;
  }
  zip_int64_t read(void* into, zip_uint64_t n) override {
    const auto take = std::min<std::size_t>(n, text_.size() - at_);
    std::memcpy(into, text_.data() + at_, take);
    at_ += take;
    return static_cast<zip_int64_t>(take);
  }
  void close() override { std::string().swap(text_); }

 private:
  documents::Catalog& catalog_;
  documents::Snapshot meta_;
  std::string user_;
  jobs::JobContext& job_;
  std::string text_;
  std::size_t at_ = 0;
};

class BlobEntry final : public LazyEntry {
 public:
  BlobEntry(BlobStore& blobs, std::string sha256, jobs::JobContext& job)
      : blobs_(blobs), sha256_(std::move(sha256)), job_(job) {}
  ~BlobEntry() override { close(); }
  bool open() override {
    if (job_.cancelled()) return false;
    fd_ = blobs_.open(sha256_);
    at_ = 0;
    return fd_ >= 0;
  }
  zip_int64_t read(void* into, zip_uint64_t n) override {
    if (job_.cancelled()) {
      zip_error_set(&error_, ZIP_ER_READ, ECANCELED);
      return -1;
    }
    for (;;) {
      const ssize_t got = ::pread(fd_, into, n, at_);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        zip_error_set(&error_, ZIP_ER_READ, errno);
        return -1;
      }
      at_ += got;
      return got;
    }
  }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  BlobStore& blobs_;
  std::string sha256_;
  jobs::JobContext& job_;
  int fd_ = -1;
  off_t at_ = 0;
};

void add_entry(zip_t* archive, std::string const& name, LazyEntry* entry, long long time_ms) {
  entry->mtime_ = static_cast<std::time_t>(time_ms / 1000);
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_function_create(&LazyEntry::callback, entry, &error);
  if (!source) {
    delete entry;
    throw std::runtime_error("zip: " + std::string(zip_error_strerror(&error)));
  }
  if (zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) < 0) {
    zip_source_free(source);  // frees the entry too
    throw std::runtime_error("zip: " + std::string(zip_strerror(archive)));
  }
}

/// The ids to export: the payload's (each must be readable: others are skipped), else every
/// document the owner may read.
std::vector<std::string> export_ids(jobs::JobContext& job, documents::Catalog& catalog) {
  std::vector<std::string> ids;
  if (auto const* given = job.payload().if_contains("document_ids"); given && !given->is_null()) {
    if (!given->is_array()) throw std::invalid_argument("payload: document_ids must be an array of ids");
    for (auto const& v : given->as_array()) {
      if (!v.is_string()) throw std::invalid_argument("payload: document_ids must be an array of ids");
      ids.emplace_back(v.as_string());
    }
    if (ids.size() > static_cast<std::size_t>(max_export_documents))
      throw std::invalid_argument("payload: at most 100000 document_ids");
    return ids;
  }
  std::string after;
  for (;;) {
    auto page = catalog.readable_ids(job.owner_id(), after, 500);
    if (page.empty()) break;
    after = page.back();
    ids.insert(ids.end(), page.begin(), page.end());
    if (ids.size() >= static_cast<std::size_t>(max_export_documents)) break;
  }
  return ids;
}

std::string export_name(long long now_ms) {
  return utc_format(now_ms, "bookspace-export-%Y%m%d-%H%M%S.zip");
}

json::value export_documents(jobs::JobContext& job, Service& service, documents::Catalog& catalog) {
  if (auto done = export_of(job.sql(), job.id())) {
    if (find_file(job.sql(), *done)) return json::object{{"file_id", *done}};  // a run again after success
  }
  const auto ids = export_ids(job, catalog);
  const auto path = service.blobs().scratch_path(".zip");
  struct Scratch {
    std::filesystem::path path;
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } scratch{path};
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!archive) throw std::runtime_error("zip: cannot create the archive (" + std::to_string(error) + ")");
  std::set<std::string> taken;
  int documents = 0, files = 0, skipped = 0;
  try {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (job.cancelled()) break;
      auto doc = catalog.read(ids[i], job.owner_id());
      if (!doc) {
        ++skipped;
        continue;
      }
      doc->content.clear();  // read again when written
      const std::string stem = entry_name(doc->title);
      const std::string md = unique_name(taken, stem + ".md");
      const long long updated = doc->updated_at;
      const std::string folder = md.substr(0, md.size() - 3) + "/";
      for (auto const& f : files_of_document(job.sql(), doc->id)) {
        add_entry(archive, unique_name(taken, folder + entry_name(f.name)),
                  new BlobEntry(service.blobs(), f.sha256, job), f.created_at);
        ++files;
      }
      add_entry(archive, md, new DocumentEntry(catalog, std::move(*doc), job.owner_id(), job), updated);
      ++documents;
      job.report_progress(static_cast<int>(i * 50 / ids.size()));  // laying out: the first half
    }
  } catch (...) {
    zip_discard(archive);
    throw;
  }
  if (job.cancelled()) {
    zip_discard(archive);
    return nullptr;
  }
  if (documents == 0) {
    // An empty archive: libzip writes no file for one, so add a note saying so.
    zip_source_t* note = zip_source_buffer(archive, "No documents to export.\n", 24, 0);
    if (!note || zip_file_add(archive, "README.txt", note, ZIP_FL_ENC_UTF_8) < 0) {
      if (note) zip_source_free(note);
      zip_discard(archive);
      throw std::runtime_error("zip: cannot write the archive");
    }
  }
  if (zip_close(archive) != 0) {
    const std::string why = zip_strerror(archive);
    zip_discard(archive);
    if (job.cancelled()) return nullptr;
    throw std::runtime_error("zip: " + why);
  }
  job.report_progress(75);
  Fd zipped{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (zipped.fd < 0) throw std::runtime_error("zip: the archive vanished");
  auto content = service.ingest(zipped.fd, std::string("application/zip"));
  File f = service.new_file(job.owner_id(), content);
  f.name = export_name(f.created_at);
  f = service.record(job.sql(), std::move(f), [&](core::Tx& tx, File const& made) {
    insert_export(tx.sql, job.id(), made.id, made.created_at);
  });
  return json::object{
      {"file_id", f.id}, {"documents", documents}, {"files", files}, {"skipped", skipped}, {"size", f.size}};
}

}  // namespace

void register_jobs(jobs::Queue& queue, Service& service, core::EventLog& events, documents::Catalog* catalog,
                   JobSettings settings) {
  const std::size_t max_bytes = settings.extract_max_bytes;
  queue.register_handler(std::string(extract_job_type),
                         [&service, &events, max_bytes](jobs::JobContext& job) {
                           return extract(job, service, events, max_bytes);
                         },
                         {3, std::chrono::seconds(settings.extract_timeout_s), -1, false,
                          "The text of a file, for search (payload {file_id}); enqueued with each upload"});
  if (catalog) {
    queue.register_handler(
        "documents.export",
        [&service, catalog](jobs::JobContext& job) { return export_documents(job, service, *catalog); },
        {3, std::chrono::seconds(settings.export_timeout_s), 0, true,
         "A zip of your documents as Markdown with their attached files, stored as a file (payload "
         "{document_ids?}; result {file_id})"});
  }
}

}  // namespace bookspace::files
