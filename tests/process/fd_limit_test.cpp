// The real binary under a low open-file limit: max_connections is lowered to fit at start, and a
// flood of connections past it leaves the server answering with a quiet log.

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace bookspace::testing;

TEST_CASE("under RLIMIT_NOFILE 256 the server fits max_connections to it and stays responsive past it") {
  ScratchDir dir;
  TestDatabase db;
  ServerProcess server(
      bookspace_binary(),
      {"--listen", "127.0.0.1:0", "--database", db.url(), "--data-dir", dir.path(), "--io-threads", "1"},
      {{"BOOKSPACE_SERVER_MAX_CONNECTIONS_PER_IP", "100000"}}, 256);
  CHECK(server.log().find("server.max_connections lowered to fit the open-file limit") != std::string::npos);
  CHECK(server.log().find("\"max_connections\":128") != std::string::npos);

  std::vector<RawConnection> flood;
  for (int i = 0; i < 400; ++i) flood.emplace_back(server.port());
  HttpClient c(server.port());
  CHECK(c.get("/healthz").status == 200);
  CHECK(c.get("/readyz").status == 200);
  const std::string log = server.log();
  std::size_t failures = 0;
  for (std::size_t at = 0; (at = log.find("accept failed", at)) != std::string::npos; ++at) ++failures;
  CHECK(failures <= 5);
}
