#include "test_support.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include "core/prepared.hpp"

#include <csignal>

using namespace bookspace;
using testing::run_command;

namespace {
std::string bin() {
  return testing::bookspace_binary();
}
std::string testd() {
  return testing::testd_binary();
}
}  // namespace

TEST_CASE("unknown or unavailable modules exit 2 naming them") {
  testing::TestDatabase db;
  auto r = run_command({bin(), "serve", "--modules", "nope", "--database", db.url()});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown module 'nope'") != std::string::npos);
  r = run_command({testd(), "serve", "--disable-modules", "probe,nope", "--database", db.url()});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("'nope'") != std::string::npos);
  CHECK(r.output.find("valid modules: probe, probe_sink") != std::string::npos);
}

TEST_CASE("invalid configuration exits 2 naming the key") {
  auto r = run_command({bin(), "serve", "--io-threads", "many"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("server.io_threads") != std::string::npos);
  r = run_command({bin(), "serve", "--listen", "nowhere"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("server.listen") != std::string::npos);
  r = run_command({bin(), "config"}, {{"BOOKSPACE_LOG_LEVEL", "loud"}});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("BOOKSPACE_LOG_LEVEL") != std::string::npos);
  // A misspelt variable is not silently ignored.
  r = run_command({bin(), "config"}, {{"BOOKSPACE_SERVER_LISTN", "127.0.0.1:1"}});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("BOOKSPACE_SERVER_LISTN") != std::string::npos);
  r = run_command({bin(), "serve", "--no-such-flag"});
  CHECK(r.exit_code == 2);
  r = run_command({bin(), "frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown command") != std::string::npos);
}

TEST_CASE("an unwritable data directory exits 1 with one line naming it") {
  // Not even root may make a directory in /proc: the same path as a volume mounted read-only.
  auto r = run_command({bin(), "serve", "--data-dir", "/proc/bookspace-nowhere"});
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("/proc/bookspace-nowhere") != std::string::npos);
  CHECK(r.output.find("Aborted") == std::string::npos);
  // The files module's own directory, unwritable, is refused in the same way (not with SIGABRT).
  testing::TestDatabase db;
  r = run_command({bin(), "serve", "--data-dir", db.dir(), "--database", db.url(), "--listen", "127.0.0.1:0"},
                  {{"BOOKSPACE_FILES_STORAGE_DIR", "/proc/bookspace-blobs"}});
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("/proc/bookspace-blobs") != std::string::npos);
}

TEST_CASE("config prints the effective configuration with secrets redacted") {
  auto r = run_command(
      {bin(), "config", "--database", "postgresql://app:s3cret@db/bookspace", "--listen", "127.0.0.1:9999"},
      {{"BOOKSPACE_SERVER_IO_THREADS", "3"}});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("s3cret") == std::string::npos);
  CHECK(r.output.find("postgresql://app:***@db/bookspace") != std::string::npos);
  CHECK(r.output.find("\"listen\":\"127.0.0.1:9999\"") != std::string::npos);
  CHECK(r.output.find("\"io_threads\":3") != std::string::npos);
}

TEST_CASE("modules, version and help") {
  auto r = run_command({testd(), "modules", "--disable-modules", "probe_sink"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("probe ") != std::string::npos);
  CHECK(r.output.find("probe_sink   no") != std::string::npos);
  r = run_command({bin(), "version"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.starts_with("bookspace "));
  // The usage lists the commands of the modules compiled in, from their descriptors.
  r = run_command({bin(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("users create-admin   --email E") != std::string::npos);
  r = run_command({testd(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("create-admin") == std::string::npos);  // no auth module in bookspace-testd
  r = run_command({bin(), "serve", "--help"});
  CHECK(r.exit_code == 0);
  for (auto flag : {"--listen", "--database", "--data-dir", "--config", "--modules", "--disable-modules",
                    "--io-threads", "--log-level"}) {
    CHECK(r.output.find(flag) != std::string::npos);
  }
}

TEST_CASE("migrate applies and is idempotent; serve refuses a changed migration") {
  testing::TestDatabase db;
  auto r = run_command({testd(), "migrate", "--database", db.url()});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("applied kernel/0001_events") != std::string::npos);
  CHECK(r.output.find("applied probe/0001_notes.sql") != std::string::npos);
  r = run_command({testd(), "migrate", "--database", db.url()});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("0 applied now, 6 already applied") != std::string::npos);

  {
    auto sql = core::open_session(core::parse_database_url(db.url()), {});
    *sql << "UPDATE schema_migrations SET checksum = 'tampered' WHERE module = 'probe'";
  }
  r = run_command({testd(), "serve", "--database", db.url(), "--listen", "127.0.0.1:0"});
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("was changed after it was applied") != std::string::npos);
}

TEST_CASE("`jobs types` lists what the enabled modules registered") {
  testing::TestDatabase db;
  auto r =
      run_command({testing::jobsd_binary(), "jobs", "types", "--database", db.url(), "--data-dir", db.dir()});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("probe.record\tmembers\tmax_attempts 5") != std::string::npos);
  CHECK(r.output.find("probe.admin\tadmins") != std::string::npos);
  r = run_command({testing::jobsd_binary(), "jobs", "types", "--database", db.url(), "--data-dir", db.dir(),
                   "--disable-modules", "probe_jobs"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("probe.") == std::string::npos);
  CHECK(r.output.find("auth.send_reset_mail\tadmins\tmax_attempts 8") != std::string::npos);  // auth's own
  r = run_command({testing::jobsd_binary(), "jobs", "types", "--database", db.url(), "--data-dir", db.dir(),
                   "--modules", "jobs"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("(no module registered a job type)") != std::string::npos);
  r = run_command({testing::jobsd_binary(), "jobs", "types", "--database", db.url(), "--data-dir", db.dir(),
                   "--disable-modules", "jobs,probe_jobs"});
  CHECK(r.exit_code == 1);
}

TEST_CASE("`search reindex` rebuilds the index of the real binary's database") {
  testing::TestDatabase db;
  auto r = run_command(
      {testing::bookspace_binary(), "search", "reindex", "--database", db.url(), "--data-dir", db.dir()});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("reindexed 0 documents and 0 files") != std::string::npos);
  r = run_command({testing::bookspace_binary(), "search", "reindex", "--database", db.url(), "--data-dir",
                   db.dir(), "--disable-modules", "search"});
  CHECK(r.exit_code != 0);
}
