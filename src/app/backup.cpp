// `bookspace backup --to DIR`, `bookspace backup verify DIR`, `bookspace restore --from DIR`
// (issue 24). A backup is DIR/backup-<UTC time>/: the database (SQLite: VACUUM INTO, an online
// consistent copy; PostgreSQL: pg_dump's custom format, one snapshot), the key files of the data
// directory, each module's part (files: the blobs, into DIR/pool shared by every backup in DIR, so
// a later backup copies only new content), and manifest.json — written last, with the SHA-256 of
// every file, so a backup without one is unfinished. docs/operations.md, "Backups".

#include "app/backup.hpp"

#include "app/kernel_config.hpp"
#include "core/database.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace bookspace::app {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// Files of the data directory that hold keys (they exist when generated there, not configured).
constexpr std::string_view key_files[] = {"auth-signing-key", "files-link-key", "auth-mfa-key"};

std::string file_sha256(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  core::Sha256 sha;
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return sha.hex();
}

void fsync_path(fs::path const& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

/// Runs a program (no shell) and waits; its exit status.
int run_program(std::vector<std::string> const& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0)
    throw std::runtime_error(argv[0] + ": cannot run it (is the PostgreSQL client installed?)");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::DatabaseOptions options_for(Config const& config) {
  core::DatabaseOptions options;
  options.url = effective_database_url(config);
  options.pool_size = 2;
  return options;
}

/// The backup to read: DIR itself when it has a manifest, else its newest finished backup-*.
fs::path pick_backup(fs::path const& dir) {
  if (fs::exists(dir / "manifest.json")) return dir;
  std::vector<fs::path> sets;
  if (fs::is_directory(dir))
    for (auto const& e : fs::directory_iterator(dir))
      if (e.path().filename().string().starts_with("backup-") && fs::exists(e.path() / "manifest.json"))
        sets.push_back(e.path());
  if (sets.empty()) throw std::runtime_error("no finished backup in " + dir.string());
  std::sort(sets.begin(), sets.end());
  return sets.back();
}

json::object read_manifest(fs::path const& set) {
  std::ifstream in(set / "manifest.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object();
}

/// The database's copy in `set`: SQLite's VACUUM INTO, or pg_dump (custom format).
json::object save_database(core::Database& db, std::string const& url, fs::path const& set) {
  json::object out;
  if (db.dialect() == core::Dialect::sqlite) {
    const fs::path file = set / "database.sqlite";
    std::string quoted;
    for (char c : file.string()) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    db.run_blocking([&](soci::session& sql) { sql << "VACUUM INTO '" + quoted + "'"; });
    out["kind"] = "sqlite";
    out["file"] = "database.sqlite";
  } else {
    const fs::path file = set / "database.pgdump";
    if (run_program(
            {"pg_dump", "--format=custom", "--no-owner", "--file=" + file.string(), "--dbname=" + url}) != 0)
      throw std::runtime_error("pg_dump failed");
    out["kind"] = "postgresql";
    out["file"] = "database.pgdump";
  }
  const fs::path file = set / std::string(out["file"].as_string());
  fsync_path(file, false);
  out["sha256"] = file_sha256(file);
  out["size"] = static_cast<std::int64_t>(fs::file_size(file));
  return out;
}

int backup(Config const& config, std::vector<ModuleDescriptor> const& modules, fs::path const& dir) {
  core::Logger log(core::LogLevel::warn);
  core::Database db(options_for(config), log);
  fs::create_directories(dir);
  fs::path set = dir / ("backup-" + utc_stamp());
  for (int n = 2; fs::exists(set); ++n) set = dir / ("backup-" + utc_stamp() + "-" + std::to_string(n));
  fs::create_directories(set / "keys");
  const bool terminal = ::isatty(STDERR_FILENO);
  json::object manifest{{"format", 1}, {"created_at", now_ms()}};
  // The backup's point: anything acknowledged before it is in the copy (one snapshot).
  manifest["point"] = now_ms();
  if (terminal) std::cerr << "copying the database…\n";
  manifest["database"] = save_database(db, effective_database_url(config), set);
  json::object keys;
  const fs::path data_dir = config.str("data_dir");
  for (auto name : key_files) {
    const fs::path from = data_dir / name;
    if (!fs::exists(from)) continue;
    fs::copy_file(from, set / "keys" / name, fs::copy_options::overwrite_existing);
    keys[name] = file_sha256(set / "keys" / name);
  }
  manifest["keys"] = keys;
  json::object parts;
  std::vector<std::string> problems;
  for (auto const& m : modules) {
    if (!m.backup.save) continue;
    json::object part;
    BackupContext ctx{config, db, data_dir.string(), set, dir / "pool", part, std::cerr, terminal, problems};
    m.backup.save(ctx);
    parts[m.name] = part;
  }
  manifest["modules"] = parts;
  // Every other file of the backup (the modules' lists), with its checksum.
  json::object files;
  for (auto const& e : fs::directory_iterator(set))
    if (e.is_regular_file() && e.path().filename() != "manifest.json.tmp" &&
        e.path().filename() != manifest["database"].as_object()["file"].as_string().c_str())
      files[e.path().filename().string()] = file_sha256(e.path());
  manifest["files"] = files;
  {
    std::ofstream out(set / "manifest.json.tmp");
    out << json::serialize(manifest) << "\n";
  }
  fsync_path(set / "manifest.json.tmp", false);
  fs::rename(set / "manifest.json.tmp", set / "manifest.json");
  fsync_path(set, true);
  for (auto const& p : problems) std::cerr << "warning: " << p << "\n";
  std::cout << "backup written to " << set.string() << "\n";
  return 0;
}

/// Each module's `hook` (verify or restore) on its part of the backup `set`.
void run_hooks(std::vector<ModuleDescriptor> const& modules, void (*BackupHooks::*hook)(BackupContext&),
               Config const& config, core::Database& db, std::string const& data_dir, fs::path const& set,
               json::object& manifest, std::vector<std::string>& problems) {
  auto& parts = manifest.at("modules").as_object();
  for (auto const& m : modules) {
    if (!(m.backup.*hook) || !parts.contains(m.name)) continue;
    BackupContext ctx{config,
                      db,
                      data_dir,
                      set,
                      set.parent_path() / "pool",
                      parts[m.name].as_object(),
                      std::cerr,
                      ::isatty(STDERR_FILENO) != 0,
                      problems};
    (m.backup.*hook)(ctx);
  }
}

int verify(Config const& config, std::vector<ModuleDescriptor> const& modules, fs::path const& dir) {
  const fs::path set = pick_backup(dir);
  auto manifest = read_manifest(set);
  std::vector<std::string> problems;
  auto const& database = manifest.at("database").as_object();
  const fs::path db_file = set / std::string(database.at("file").as_string());
  if (!fs::exists(db_file) || file_sha256(db_file) != database.at("sha256").as_string())
    problems.push_back("the database copy does not match its checksum");
  for (auto const& [name, sha] : manifest.at("keys").as_object())
    if (!fs::exists(set / "keys" / std::string(name)) ||
        file_sha256(set / "keys" / std::string(name)) != sha.as_string())
      problems.push_back("key file " + std::string(name) + " does not match its checksum");
  if (auto const* files = manifest.if_contains("files"))
    for (auto const& [name, sha] : files->as_object())
      if (!fs::exists(set / std::string(name)) || file_sha256(set / std::string(name)) != sha.as_string())
        problems.push_back(std::string(name) + " does not match its checksum");
  core::Logger log(core::LogLevel::warn);
  core::Database db(options_for(config), log);
  run_hooks(modules, &BackupHooks::verify, config, db, config.str("data_dir"), set, manifest, problems);
  for (auto const& p : problems) std::cerr << "problem: " << p << "\n";
  if (!problems.empty()) return 1;
  std::cout << "backup " << set.string() << " is complete and intact\n";
  return 0;
}

/// A data directory and database a restore may fill: nothing of a deployment in them yet.
std::optional<std::string> not_empty(core::Database& db) {
  long long tables = 0;
  db.run_blocking([&](soci::session& sql) {
    if (db.dialect() == core::Dialect::sqlite)
      sql << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", soci::into(tables);
    else
      sql << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
          soci::into(tables);
  });
  if (tables > 0) return "the database has tables";
  return std::nullopt;
}

int restore(Config const& config, std::vector<ModuleDescriptor> const& modules, fs::path const& dir) {
  const fs::path set = pick_backup(dir);
  auto manifest = read_manifest(set);
  const fs::path data_dir = config.str("data_dir");
  fs::create_directories(data_dir);
  auto const& database = manifest.at("database").as_object();
  const std::string url = effective_database_url(config);
  const auto parsed = core::parse_database_url(url);
  const bool sqlite = parsed.dialect == core::Dialect::sqlite;
  if ((database.at("kind").as_string() == "sqlite") != sqlite) {
    std::cerr << "bookspace restore: the backup is of " << database.at("kind").as_string()
              << ", the configured database is not\n";
    return 2;
  }
  const fs::path db_file = set / std::string(database.at("file").as_string());
  if (file_sha256(db_file) != database.at("sha256").as_string()) {
    std::cerr << "bookspace restore: the database copy does not match its checksum\n";
    return 1;
  }
  core::Logger log(core::LogLevel::warn);
  // An SQLite file that does not exist yet is empty: not opened (that would create it, WAL and all).
  for (auto name : key_files)
    if (fs::exists(data_dir / name)) {
      std::cerr << "bookspace restore: refusing to restore over a deployment: the data directory has " << name
                << "\n";
      return 2;
    }
  if (!sqlite || (fs::exists(parsed.target) && fs::file_size(parsed.target) > 0)) {
    core::Database probe(options_for(config), log);
    if (auto why = not_empty(probe)) {
      std::cerr << "bookspace restore: refusing to restore over a deployment: " << *why << "\n";
      return 2;
    }
  }
  if (sqlite) {
    for (auto suffix : {"-wal", "-shm"}) fs::remove(parsed.target + suffix);
    fs::create_directories(fs::path(parsed.target).parent_path());
    fs::copy_file(db_file, parsed.target, fs::copy_options::overwrite_existing);
    fsync_path(parsed.target, false);
  } else if (run_program(
                 {"pg_restore", "--no-owner", "--exit-on-error", "--dbname=" + url, db_file.string()}) != 0) {
    std::cerr << "bookspace restore: pg_restore failed\n";
    return 1;
  }
  for (auto const& [name, sha] : manifest.at("keys").as_object()) {
    (void)sha;
    fs::copy_file(set / "keys" / std::string(name), data_dir / std::string(name),
                  fs::copy_options::overwrite_existing);
    fs::permissions(data_dir / std::string(name), fs::perms::owner_read | fs::perms::owner_write);
  }
  core::Database db(options_for(config), log);
  std::vector<std::string> problems;
  run_hooks(modules, &BackupHooks::restore, config, db, data_dir.string(), set, manifest, problems);
  for (auto const& p : problems) std::cerr << "problem: " << p << "\n";
  std::cout << "restored " << set.string() << "; `bookspace serve` starts from it\n";
  return problems.empty() ? 0 : 1;
}

}  // namespace

int cmd_backup(Config const& config, std::vector<ModuleDescriptor> const& modules,
               std::vector<std::string> const& args) {
  try {
    if (!args.empty() && args[0] == "verify") {
      if (args.size() != 2) {
        std::cerr << "usage: bookspace backup verify DIR\n";
        return 2;
      }
      return verify(config, modules, args[1]);
    }
    if (args.size() != 2 || args[0] != "--to") {
      std::cerr << "usage: bookspace backup --to DIR   |   bookspace backup verify DIR\n";
      return 2;
    }
    return backup(config, modules, args[1]);
  } catch (std::exception const& e) {
    std::cerr << "bookspace backup: " << e.what() << "\n";
    return 1;
  }
}

int cmd_restore(Config const& config, std::vector<ModuleDescriptor> const& modules,
                std::vector<std::string> const& args) {
  if (args.size() != 2 || args[0] != "--from") {
    std::cerr << "usage: bookspace restore --from DIR\n";
    return 2;
  }
  try {
    return restore(config, modules, args[1]);
  } catch (std::exception const& e) {
    std::cerr << "bookspace restore: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bookspace::app
