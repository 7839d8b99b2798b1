// The files module's part of `bookspace backup` / `backup verify` / `restore` (src/app/backup.cpp):
// its blobs. Local storage: every blob a row knows is copied into the backup directory's pool
// (content-addressed like the store, so a later backup copies only new content), listed with
// its size in the backup's files-blobs.txt. S3: the objects stay in the bucket (its versioning or
// replication keeps the bytes; docs/operations.md); files-objects.txt lists hash, key and size,
// and a restore checks that every listed object is there.

#include "files_backup.hpp"

#include "blob_copy.hpp"
#include "blob_store.hpp"
#include "s3_client.hpp"
#include "settings.hpp"
#include "store.hpp"

#include "app/config.hpp"
#include "core/database.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace bookspace::files {

namespace fs = std::filesystem;

namespace {

fs::path storage_root(app::BackupContext const& ctx) {
  const auto dir = ctx.config.str("files.storage_dir");
  return dir.empty() ? fs::path(ctx.data_dir) / "blobs" : fs::path(dir);
}

struct Line {
  std::string sha256, key;
  std::uint64_t size = 0;
};

std::vector<Line> read_list(fs::path const& file, bool with_key) {
  std::vector<Line> out;
  std::ifstream in(file);
  std::string text;
  while (std::getline(in, text)) {
    std::istringstream fields(text);
    Line l;
    fields >> l.sha256;
    if (with_key) fields >> l.key;
    fields >> l.size;
    if (!l.sha256.empty()) out.push_back(l);
  }
  return out;
}

void save_local(app::BackupContext& ctx) {
  auto source = local_blob_store(storage_root(ctx));
  auto pool = local_blob_store(ctx.pool_dir);
  std::ofstream list(ctx.set_dir / "files-blobs.txt");
  std::size_t count = 0, copied = 0;
  std::uint64_t bytes = 0;
  std::string after;
  for (;;) {
    auto page = ctx.db.run_blocking([&](soci::session& sql) { return blobs_after(sql, after, 500); });
    for (auto const& [sha256, size] : page) {
      Fd there(pool->open(sha256));
      if (there.fd < 0) {
        Fd here(source->open(sha256));
        if (here.fd < 0) {
          ctx.problems.push_back("blob " + sha256 + " is missing from the store (not in the backup)");
          continue;
        }
        if (copy(here.fd, *pool).sha256 != sha256) {
          ctx.problems.push_back("blob " + sha256 +
                                 " does not match its hash in the store (not in the backup)");
          continue;
        }
        ++copied;
      }
      list << sha256 << " " << size << "\n";
      ++count;
      bytes += static_cast<std::uint64_t>(size);
      if (ctx.terminal)
        ctx.err << "\rblobs: " << count << " (" << human_bytes(static_cast<double>(bytes)) << "), " << copied
                << " new" << std::flush;
    }
    if (page.size() < 500) break;
    after = page.back().first;
  }
  if (ctx.terminal) ctx.err << "\n";
  list.close();
  ctx.part = {{"storage", "local"},
              {"list", "files-blobs.txt"},
              {"blobs", count},
              {"bytes", bytes},
              {"copied", copied}};
}

void save_s3(app::BackupContext& ctx) {
  std::ofstream list(ctx.set_dir / "files-objects.txt");
  std::size_t count = 0;
  std::string after;
  for (;;) {
    auto page = ctx.db.run_blocking([&](soci::session& sql) { return blob_objects_after(sql, after, 500); });
    for (auto const& o : page) {
      list << o.sha256 << " " << o.key << " " << o.size << "\n";
      ++count;
    }
    if (page.size() < 500) break;
    after = page.back().sha256;
  }
  const auto s3 = s3_settings(ctx.config);
  ctx.part = {{"storage", "s3"},         {"list", "files-objects.txt"}, {"objects", count},
              {"endpoint", s3.endpoint}, {"bucket", s3.bucket},         {"prefix", s3.prefix}};
}

/// Whether every listed object is in the bucket, with its size.
void check_objects(app::BackupContext& ctx) {
  S3Client client(s3_settings(ctx.config));
  for (auto const& l : read_list(ctx.set_dir / "files-objects.txt", true)) {
    const auto size = client.head_object(l.key);
    if (!size || *size != l.size)
      ctx.problems.push_back("object " + l.key + " (blob " + l.sha256 + ") is missing");
  }
}

}  // namespace

void backup_save(app::BackupContext& ctx) {
  if (ctx.config.str("files.storage") == "s3")
    save_s3(ctx);
  else
    save_local(ctx);
}

void backup_verify(app::BackupContext& ctx) {
  if (ctx.part.at("storage").as_string() == "s3") {
    if (ctx.config.str("files.storage") == "s3") check_objects(ctx);
    return;
  }
  auto pool = local_blob_store(ctx.pool_dir);
  for (auto const& l : read_list(ctx.set_dir / "files-blobs.txt", false)) {
    Fd fd(pool->open(l.sha256));
    if (fd.fd < 0 || sha256_of(fd.fd) != l.sha256)
      ctx.problems.push_back("blob " + l.sha256 + " is missing or corrupt");
  }
}

void backup_restore(app::BackupContext& ctx) {
  if (ctx.part.at("storage").as_string() == "s3") {
    if (ctx.config.str("files.storage") != "s3")
      ctx.problems.push_back(
          "the backup's blobs are in S3: set files.storage to \"s3\" (or run files "
          "migrate-storage --to local after starting on S3)");
    else
      check_objects(ctx);
    return;
  }
  if (ctx.config.str("files.storage") == "s3") {
    ctx.problems.push_back(
        "the backup's blobs are local: restore with files.storage \"local\", then "
        "`bookspace files migrate-storage --to s3`");
    return;
  }
  auto pool = local_blob_store(ctx.pool_dir);
  auto target = local_blob_store(storage_root(ctx));
  std::size_t n = 0;
  for (auto const& l : read_list(ctx.set_dir / "files-blobs.txt", false)) {
    Fd from(pool->open(l.sha256));
    if (from.fd < 0 || copy(from.fd, *target).sha256 != l.sha256)
      ctx.problems.push_back("blob " + l.sha256 + " is missing or corrupt in the backup");
    if (ctx.terminal && ++n % 100 == 0) ctx.err << "\rblobs restored: " << n << std::flush;
  }
  if (ctx.terminal) ctx.err << "\n";
}

}  // namespace bookspace::files
