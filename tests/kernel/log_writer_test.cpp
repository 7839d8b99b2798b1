#include "core/log_writer.hpp"
#include "core/log.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>

using namespace bookspace::core;

namespace {
/// Everything readable from a non-blocking pipe now.
std::string drain(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}
}  // namespace

TEST_CASE("the log writer batches lines in order and flushes on request and on destruction") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  {
    LogWriter writer({fds[1], 1 << 16, std::chrono::milliseconds(60'000)});
    for (int i = 0; i < 100; ++i) CHECK(writer.append("line " + std::to_string(i) + "\n"));
    CHECK(drain(fds[0]).empty());  // nothing written yet: the interval is a minute
    writer.flush();
    std::string out = drain(fds[0]);
    CHECK(out.starts_with("line 0\nline 1\n"));
    CHECK(out.ends_with("line 99\n"));
    CHECK(writer.append("last\n"));
  }
  CHECK(drain(fds[0]) == "last\n");  // the destructor wrote what was left
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("a full log buffer drops lines and counts them; the caller never waits") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  // A pipe nobody reads fills up: the writer thread blocks, the buffer fills, lines are dropped.
  ::fcntl(fds[1], F_SETFL, 0);  // the writer's end blocks when the pipe is full
  LogWriter writer({fds[1], 4096, std::chrono::milliseconds(1)});
  Logger log(LogLevel::info, writer);
  const std::string big(1000, 'x');
  std::uint64_t refused = 0;
  for (int i = 0; i < 2000; ++i) refused += !writer.append(big + "\n");
  CHECK(refused > 0);
  CHECK(writer.dropped() == refused);
  CHECK(log.dropped() == refused);
  drain(fds[0]);  // unblock the writer so it can finish
  ::fcntl(fds[0], F_SETFL, 0);
  std::thread reader([fd = fds[0]] {
    char buf[65536];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  });
  writer.flush();
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
}

TEST_CASE("warnings and errors are written at once, not at the next interval") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  LogWriter writer({fds[1], 1 << 16, std::chrono::milliseconds(60'000)});
  Logger log(LogLevel::info, writer);
  log.info("quiet");
  log.error("loud", {{"n", 1}});
  std::string out;
  for (int i = 0; i < 500 && out.find("loud") == std::string::npos; ++i) {
    out += drain(fds[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(out.find("\"msg\":\"quiet\"") != std::string::npos);  // written with it, in order
  CHECK(out.find("\"msg\":\"loud\"") != std::string::npos);
  CHECK(out.find("quiet") < out.find("loud"));
  writer.flush();
  ::close(fds[0]);
  ::close(fds[1]);
}
