// `bookspace files migrate-storage --to s3|local`: copies every blob a row knows (files_blobs:
// referenced, or waiting for the GC) into the other store, reads each back to check its SHA-256
// there, and records it there (S3: its files_blob_objects row; local: its file under its hash).
// Resumable: a blob already in the target is skipped. Safe while a server runs on the source:
// nothing in the source changes; a blob uploaded meanwhile is picked up by the next run.

#include "migrate_storage.hpp"

#include "blob_copy.hpp"
#include "blob_store.hpp"
#include "settings.hpp"
#include "store.hpp"

#include "app/config.hpp"
#include "core/database.hpp"

#include <openssl/evp.h>
#include <soci/soci.h>
#include <sodium.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <system_error>

namespace bookspace::files {

namespace {

struct Totals {
  std::size_t blobs = 0, copied = 0, skipped = 0, missing = 0;
  std::uint64_t bytes = 0, all_bytes = 0;
};

/// "12/340 blobs, 1.2 GiB of 3.4 GiB, 80.0 MiB/s, ETA 0:42", rewritten in place.
void progress_line(std::ostream& err, Totals const& t, std::size_t count,
                   std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() + 1e-9;
  const double rate = static_cast<double>(t.bytes) / seconds;
  const double left = rate > 0 ? static_cast<double>(t.all_bytes - std::min(t.all_bytes, t.bytes)) / rate : 0;
  char eta[32];
  std::snprintf(eta, sizeof eta, "%d:%02d", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  err << "\r" << t.blobs << "/" << count << " blobs, " << human_bytes(static_cast<double>(t.bytes)) << " of "
      << human_bytes(static_cast<double>(t.all_bytes)) << ", " << human_bytes(rate) << "/s, ETA " << eta
      << "   " << std::flush;
}

}  // namespace

int migrate_storage_command(app::CommandContext& ctx) {
  std::string to;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (ctx.args[i] == "--to" && i + 1 < ctx.args.size())
      to = ctx.args[++i];
    else if (ctx.args[i].starts_with("--to="))
      to = ctx.args[i].substr(5);
  }
  if (to != "s3" && to != "local") {
    ctx.err << "bookspace files migrate-storage: --to s3 or --to local\n";
    return 2;
  }
  const auto dir = ctx.config.str("files.storage_dir");
  const auto root = dir.empty() ? std::filesystem::path(ctx.data_dir) / "blobs" : std::filesystem::path(dir);
  auto local = local_blob_store(root);
  auto s3 = s3_blob_store(s3_settings(ctx.config), ctx.db, root / "tmp");
  if (auto problem = s3->check()) {
    ctx.err << "bookspace files migrate-storage: the S3 bucket is not usable (" << *problem << ")\n";
    return 1;
  }
  BlobStore& source = to == "s3" ? *local : *s3;
  BlobStore& target = to == "s3" ? *s3 : *local;

  const auto [count, all_bytes] = ctx.db.run_blocking([](soci::session& sql) { return blob_totals(sql); });
  Totals t;
  t.all_bytes = all_bytes;
  const auto started = std::chrono::steady_clock::now();
  std::string after;
  for (;;) {
    auto page = ctx.db.run_blocking([&](soci::session& sql) { return blobs_after(sql, after, 200); });
    for (auto const& [sha256, size] : page) {
      ++t.blobs;
      t.bytes += static_cast<std::uint64_t>(size);
      Fd there(target.open(sha256));
      if (there.fd >= 0) {
        ++t.skipped;  // copied by an earlier run
      } else if (Fd here(source.open(sha256)); here.fd < 0) {
        ++t.missing;  // its content is gone from the source as well: reported, not invented
        ctx.err << (ctx.terminal ? "\n" : "") << "missing from the source: " << sha256 << "\n";
      } else {
        const auto stored = copy(here.fd, target);
        Fd check(target.open(sha256));
        if (stored.sha256 != sha256 || check.fd < 0 || sha256_of(check.fd) != sha256) {
          ctx.err << "\nbookspace files migrate-storage: " << sha256 << " does not read back as stored\n";
          return 1;
        }
        ++t.copied;
      }
      if (ctx.terminal) progress_line(ctx.err, t, count, started);
    }
    if (page.size() < 200) break;
    after = page.back().first;
  }
  if (ctx.terminal) ctx.err << "\n";
  ctx.out << "migrate-storage to " << to << ": " << t.blobs << " blobs ("
          << human_bytes(static_cast<double>(t.bytes)) << "): " << t.copied << " copied and checked, "
          << t.skipped << " already there, " << t.missing << " missing\n";
  if (t.missing == 0)
    ctx.out << "now set files.storage to \"" << to
            << "\" and restart; run this again afterwards to copy what was "
            << "uploaded meanwhile\n";
  return t.missing == 0 ? 0 : 1;
}

}  // namespace bookspace::files
