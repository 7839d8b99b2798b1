#pragma once

// Helpers shared by the test executables: real HTTP over loopback, real databases, real
// processes. Nothing here fakes what it stands for.

#include "app/config.hpp"
#include "app/module.hpp"
#include "core/database.hpp"
#include "core/log.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bookspace::testing {

/// "sqlite" or "postgresql", from BOOKSPACE_TEST_BACKEND (default sqlite).
core::Dialect backend();

/// A database of its own for one test: a fresh SQLite file in a temporary directory, or a
/// fresh PostgreSQL database on BOOKSPACE_TEST_PG (dropped afterwards).
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(TestDatabase const&) = delete;
  std::string const& url() const { return url_; }
  std::string const& dir() const { return dir_; }  ///< scratch directory, removed afterwards
  core::Dialect dialect() const { return dialect_; }

 private:
  core::Dialect dialect_;
  std::string url_;
  std::string dir_;
  std::string pg_name_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  boost::json::value json() const;
  std::string header(std::string const& name) const;
};

/// A blocking HTTP/1.1 client on one keep-alive connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  HttpClient(HttpClient&&) noexcept;
  ~HttpClient();
  HttpResponse request(std::string const& method, std::string const& target, std::string const& body = "",
                       std::map<std::string, std::string> const& headers = {});
  HttpResponse get(std::string const& target, std::map<std::string, std::string> const& headers = {}) {
    return request("GET", target, "", headers);
  }
  HttpResponse post_json(std::string const& target, boost::json::value const& body,
                         std::map<std::string, std::string> headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Sends raw bytes on a new connection and returns everything read until the server closes
/// the connection or `timeout` passes.
std::string raw_exchange(std::uint16_t port, std::string const& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// A loopback TCP port nobody listens on now (bound and released): for a server that must
/// restart on the same address, or a peer that must be unreachable.
std::uint16_t free_port();

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool eventually(std::function<bool()> const& condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

/// The configuration tests start from: port 0 on loopback, the given database, quiet logs,
/// fast event polling.
app::Config test_config(app::ConfigSchema const& schema, std::string const& database_url,
                        std::string const& data_dir);

/// A log that keeps its lines in memory (for assertions) instead of writing to stderr.
/// A fresh directory under the system temp dir, removed afterwards.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(ScratchDir const&) = delete;
  std::string const& path() const { return path_; }

 private:
  std::string path_;
};

class CapturedLog {
 public:
  CapturedLog(core::LogLevel level = core::LogLevel::info);
  core::Logger& logger() { return logger_; }
  std::vector<std::string> lines() const;
  bool contains(std::string const& text) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  core::Logger logger_;
};

/// The test-only modules: `probe` (notes table, publishes events, test routes) and
/// `probe_sink` (a durable consumer of probe's events).
app::ModuleDescriptor probe_module();
app::ModuleDescriptor probe_sink_module();

/// A child process running bookspace-testd (the kernel + probe modules) or the real binary.
class ServerProcess {
 public:
  /// Starts `binary serve` with `args`; waits for its "listening" log line. `fd_limit` > 0:
  /// the child runs under RLIMIT_NOFILE = fd_limit (soft and hard, through prlimit).
  ServerProcess(std::string binary, std::vector<std::string> args,
                std::map<std::string, std::string> env = {}, int fd_limit = 0);
  ~ServerProcess();
  std::uint16_t port() const { return port_; }
  int pid() const { return pid_; }
  void signal(int sig);
  /// Waits for exit; returns the exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// Everything the process has written to stderr so far.
  std::string log() const;

 private:
  struct Output;
  int pid_ = -1;
  int stderr_fd_ = -1;
  std::uint16_t port_ = 0;
  std::shared_ptr<Output> output_;
};

/// A raw TCP connection to 127.0.0.1:port, for tests of what the server does with sockets
/// (caps, timeouts, unread bodies). `source`: another loopback address to connect from
/// (127.0.0.2 …), to look like a second client.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port, std::string const& source = "");
  RawConnection(RawConnection&& other) noexcept;
  RawConnection(RawConnection const&) = delete;
  ~RawConnection();
  /// Sends all of `bytes`; false when the peer closed or reset the connection.
  bool send(std::string_view bytes);
  /// Reads until `needle` has arrived, the peer closed, or `timeout` passed; returns all read so far.
  std::string read_until(std::string_view needle,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// True when the server closes (or resets) the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout);
  /// Everything read so far.
  std::string const& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

/// Runs a command to completion; returns exit code and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(std::vector<std::string> const& argv, std::map<std::string, std::string> env = {},
                          std::string const& stdin_text = "");

/// Paths of the built binaries (set by CMake).
std::string bookspace_binary();
std::string testd_binary();
/// bookspace-jobsd: the binary's modules plus the test-only job types (probe_jobs.hpp).
std::string jobsd_binary();

}  // namespace bookspace::testing
