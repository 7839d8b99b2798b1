#include "test_support.hpp"

#include "app/kernel_config.hpp"
#include "core/ids.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bookspace::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

core::Dialect backend() {
  const char* b = std::getenv("BOOKSPACE_TEST_BACKEND");
  return b && std::string_view(b) == "postgresql" ? core::Dialect::postgresql : core::Dialect::sqlite;
}

namespace {

void pg_admin(std::string const& sql) {
  const char* base = std::getenv("BOOKSPACE_TEST_PG");
  if (!base) throw std::runtime_error("BOOKSPACE_TEST_PG is not set");
  PGconn* conn = PQconnectdb(base);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot reach BOOKSPACE_TEST_PG: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + err);
}

}  // namespace

TestDatabase::TestDatabase() : dialect_(backend()) {
  dir_ = (std::filesystem::temp_directory_path() / ("bookspace-test-" + core::random_hex(8))).string();
  std::filesystem::create_directories(dir_);
  if (dialect_ == core::Dialect::sqlite) {
    url_ = "sqlite://" + dir_ + "/bookspace.db";
    return;
  }
  pg_name_ = "bs_test_" + core::random_hex(8);
  pg_admin("CREATE DATABASE " + pg_name_);
  boost::urls::url u(boost::urls::parse_uri(std::getenv("BOOKSPACE_TEST_PG")).value());
  u.set_path("/" + pg_name_);
  url_ = std::string(u.buffer());
}

TestDatabase::~TestDatabase() {
  if (!pg_name_.empty()) {
    try {
      pg_admin("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
    } catch (std::exception const&) {
      // The cluster is thrown away after the run anyway.
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

json::value HttpResponse::json() const {
  return json::parse(body);
}

std::string HttpResponse::header(std::string const& name) const {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = headers.find(lower);
  return it == headers.end() ? "" : it->second;
}

struct HttpClient::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  std::uint16_t port;
  bool connected = false;

  void connect() {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    // Synchronous reads ignore the stream's expiry: a socket timeout keeps tests bounded.
    timeval tv{30, 0};
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    connected = true;
  }
};

HttpClient::HttpClient(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

HttpResponse HttpClient::request(std::string const& method, std::string const& target,
                                 std::string const& body, std::map<std::string, std::string> const& headers) {
  for (int attempt = 0;; ++attempt) {
    try {
      if (!impl_->connected) impl_->connect();
      bhttp::request<bhttp::string_body> req;
      req.method_string(method);
      req.target(target);
      req.version(11);
      req.set(bhttp::field::host, "127.0.0.1");
      for (auto const& [k, v] : headers) req.set(k, v);
      if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        req.body() = body;
        req.prepare_payload();
      }
      impl_->stream.expires_after(std::chrono::seconds(30));
      bhttp::write(impl_->stream, req);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (method == "HEAD") parser.skip(true);
      bhttp::read(impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      HttpResponse out;
      out.status = static_cast<int>(res.result_int());
      for (auto const& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
      }
      out.body = std::move(res.body());
      if (!res.keep_alive()) {
        beast::error_code ec;
        impl_->stream.socket().close(ec);
        impl_->connected = false;
        impl_->buffer.clear();
      }
      return out;
    } catch (boost::system::system_error const&) {
      // A keep-alive connection the server closed meanwhile: reconnect once.
      beast::error_code ec;
      impl_->stream.socket().close(ec);
      impl_->connected = false;
      impl_->buffer.clear();
      if (attempt >= 1) throw;
    }
  }
}

HttpResponse HttpClient::post_json(std::string const& target, json::value const& body,
                                   std::map<std::string, std::string> headers) {
  headers.emplace("Content-Type", "application/json");
  return request("POST", target, json::serialize(body), headers);
}

std::string raw_exchange(std::uint16_t port, std::string const& bytes, std::chrono::milliseconds timeout) {
  RawConnection c(port);
  c.send(bytes);  // the server may close early (413, 431): read what it said
  c.closed_within(timeout);
  return c.received();
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool eventually(std::function<bool()> const& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

app::Config test_config(app::ConfigSchema const& schema, std::string const& database_url,
                        std::string const& data_dir) {
  app::Config c = app::Config::defaults(schema);
  c.set("server.listen", "127.0.0.1:0");
  c.set("server.io_threads", 2);
  c.set("database.url", boost::json::string(database_url));
  c.set("database.pool_size", 3);
  c.set("data_dir", boost::json::string(data_dir));
  c.set("events.poll_interval_ms", 100);
  c.set("server.drain_timeout_ms", 5000);
  return c;
}

struct CapturedLog::State {
  mutable std::mutex mutex;
  std::vector<std::string> lines;
};

CapturedLog::CapturedLog(core::LogLevel level)
    : state_(std::make_shared<State>()), logger_(level, [s = state_](std::string_view line) {
        std::lock_guard lock(s->mutex);
        s->lines.emplace_back(line);
      }) {}

std::vector<std::string> CapturedLog::lines() const {
  std::lock_guard lock(state_->mutex);
  return state_->lines;
}

bool CapturedLog::contains(std::string const& text) const {
  for (auto const& l : lines()) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

namespace {

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> merged_env(std::map<std::string, std::string> const& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos)
      env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (auto const& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (auto const& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int spawn(std::vector<std::string> argv, std::map<std::string, std::string> const& env, int out_fd,
          int in_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
  auto envs = merged_env(env);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(envs);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

}  // namespace

struct ServerProcess::Output {
  std::mutex mutex;
  std::string text;
};

ServerProcess::ServerProcess(std::string binary, std::vector<std::string> args,
                             std::map<std::string, std::string> env, int fd_limit)
    : output_(std::make_shared<Output>()) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv;
  if (fd_limit > 0)
    argv = {"/usr/bin/prlimit", "--nofile=" + std::to_string(fd_limit) + ":" + std::to_string(fd_limit)};
  argv.push_back(std::move(binary));
  argv.push_back("serve");
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, env, fds[1], -1);
  ::close(fds[1]);
  stderr_fd_ = fds[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  std::string seen;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{stderr_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(stderr_fd_, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
    auto at = seen.find("\"msg\":\"listening\"");
    if (at != std::string::npos) {
      auto port_at = seen.find("\"port\":", at);
      if (port_at != std::string::npos) {
        port_ = static_cast<std::uint16_t>(std::stoi(seen.substr(port_at + 7)));
        output_->text = std::move(seen);
        // Keep draining the pipe so the child never blocks on a full one; what it says is kept
        // for log() (bounded: tests assert the server does not flood its log).
        std::thread([fd = stderr_fd_, out = output_] {
          char sink[4096];
          ssize_t got = 0;
          while ((got = ::read(fd, sink, sizeof sink)) > 0) {
            std::lock_guard lock(out->mutex);
            if (out->text.size() < (64u << 20)) out->text.append(sink, static_cast<std::size_t>(got));
          }
          ::close(fd);
        }).detach();
        stderr_fd_ = -1;
        return;
      }
    }
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  throw std::runtime_error("server did not start; its output:\n" + seen);
}

std::string ServerProcess::log() const {
  std::lock_guard lock(output_->mutex);
  return output_->text;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

RawConnection::RawConnection(std::uint16_t port, std::string const& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  if (!source.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot bind to " + source);
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect failed");
  }
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), received_(std::move(other.received_)) {}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawConnection::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (received_.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return received_;
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return false;
}

void ServerProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

CommandResult run_command(std::vector<std::string> const& argv, std::map<std::string, std::string> env,
                          std::string const& stdin_text) {
  int out[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, env, out[1], in[0]);
  ::close(out[1]);
  ::close(in[0]);
  if (!stdin_text.empty()) {
    ssize_t ignored = ::write(in[1], stdin_text.data(), stdin_text.size());
    (void)ignored;
  }
  ::close(in[1]);
  CommandResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string bookspace_binary() {
  return BOOKSPACE_BINARY_PATH;
}
std::string testd_binary() {
  return BOOKSPACE_TESTD_PATH;
}

std::string jobsd_binary() {
  return BOOKSPACE_JOBSD_PATH;
}

}  // namespace bookspace::testing

namespace bookspace::testing {

ScratchDir::ScratchDir()
    : path_(
          (std::filesystem::temp_directory_path() / ("bookspace-scratch-" + core::random_hex(8))).string()) {
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace bookspace::testing
