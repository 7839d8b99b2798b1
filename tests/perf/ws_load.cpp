// WebSocket load for tests/perf/realtime.sh: many authenticated realtime connections from one
// thread, and the delivery latency of one document update fanned out to all of them.
//
//   bookspace-wsload idle   PORT TOKEN CONNECTIONS
//       opens CONNECTIONS sockets, authenticates each, prints "ready <n>", holds them until
//       stdin closes, then prints how many were still open.
//   bookspace-wsload fanout PORT TOKENS_FILE DOCUMENT SUBSCRIBERS ROUNDS EDIT_PORT EDIT_TOKEN
//       SUBSCRIBERS sockets (tokens taken in turn from TOKENS_FILE, one per line) subscribe to
//       document:DOCUMENT on PORT; then ROUNDS times: the document's title is set through
//       EDIT_PORT (maybe another instance) and every socket's delivery time is taken from just
//       before the PATCH is written. Prints p50/p95/p99/max in ms over all deliveries.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

namespace {

struct State {
  tcp::endpoint endpoint;
  std::size_t ready = 0, failed = 0, open = 0;
  std::vector<Clock::time_point> sent;  ///< per round: just before the PATCH was written
  std::vector<double> latencies_ms;
  std::vector<std::size_t> delivered;  ///< per round
};

awaitable<std::string> read_text(websocket::stream<beast::tcp_stream>& ws, beast::flat_buffer& buffer) {
  buffer.consume(buffer.size());
  co_await ws.async_read(buffer, use_awaitable);
  co_return beast::buffers_to_string(buffer.data());
}

/// One realtime client: connect, auth, maybe subscribe, then count deliveries of "round-<k>".
awaitable<void> client(State& s, std::string token, std::string topic) {
  try {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(ws).async_connect(s.endpoint, use_awaitable);
    co_await ws.async_handshake("127.0.0.1", "/api/v1/realtime", use_awaitable);
    beast::flat_buffer buffer;
    const std::string auth = R"({"type":"auth","token":")" + token + "\"}";
    co_await ws.async_write(asio::buffer(auth), use_awaitable);
    while ((co_await read_text(ws, buffer)).find("\"authenticated\"") == std::string::npos) {
    }
    if (!topic.empty()) {
      const std::string subscribe = R"({"type":"subscribe","topic":")" + topic + "\"}";
      co_await ws.async_write(asio::buffer(subscribe), use_awaitable);
      while ((co_await read_text(ws, buffer)).find("\"subscribed\"") == std::string::npos) {
      }
    }
    ++s.ready;
    ++s.open;
    for (;;) {
      const std::string text = co_await read_text(ws, buffer);
      const auto now = Clock::now();
      if (text.find("\"documents.updated\"") == std::string::npos) continue;
      const auto at = text.find("round-");
      if (at == std::string::npos) continue;
      const auto round = static_cast<std::size_t>(std::atoi(text.c_str() + at + 6));
      if (round >= s.sent.size()) continue;
      s.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - s.sent[round]).count());
      ++s.delivered[round];
    }
  } catch (std::exception const&) {
    ++s.failed;
  }
  if (s.open > 0) --s.open;
}

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_awaitable);
}

/// Opens `n` clients, at most 200 connecting at once (the listen backlog), and waits for them.
awaitable<bool> open_all(State& s, std::size_t n, std::vector<std::string> const& tokens,
                         std::string const& topic) {
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  for (std::size_t i = 0; i < n; ++i) {
    while (i - s.ready - s.failed >= 200 && Clock::now() < deadline)
      co_await pause(std::chrono::milliseconds(2));
    asio::co_spawn(ex, client(s, tokens[i % tokens.size()], topic), asio::detached);
  }
  while (s.ready + s.failed < n && Clock::now() < deadline) co_await pause(std::chrono::milliseconds(5));
  co_return s.failed == 0 && s.ready == n;
}

awaitable<http::response<http::string_body>> request(tcp::endpoint ep, http::verb verb, std::string target,
                                                     std::string token, std::string body,
                                                     std::string if_match, State* s = nullptr,
                                                     std::size_t round = 0) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(ep, use_awaitable);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + token);
  if (!if_match.empty()) req.set(http::field::if_match, if_match);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
  }
  if (s) s->sent[round] = Clock::now();
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, use_awaitable);
  co_return res;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::min<double>(v.size() - 1, p / 100.0 * v.size()));
  return v[i];
}

awaitable<int> fanout(State& s, std::vector<std::string> tokens, std::string document, std::size_t n,
                      std::size_t rounds, tcp::endpoint edit, std::string edit_token) {
  s.sent.assign(rounds, Clock::time_point::max());
  s.delivered.assign(rounds, 0);
  const std::string topic = "document:" + document;
  if (!co_await open_all(s, n, tokens, topic)) {
    std::fprintf(stderr, "wsload: %zu of %zu subscribers ready\n", s.ready, n);
    co_return 1;
  }
  co_await pause(std::chrono::milliseconds(500));
  const std::string path = "/api/v1/documents/" + document;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::string none;
    auto got = co_await request(edit, http::verb::get, path, edit_token, none, none);
    const std::string etag(got[http::field::etag]);
    const std::string body = R"({"title":"round-)" + std::to_string(round) + "\"}";
    auto patched = co_await request(edit, http::verb::patch, path, edit_token, body, etag, &s, round);
    if (patched.result_int() != 200) {
      std::fprintf(stderr, "wsload: PATCH answered %d\n", patched.result_int());
      co_return 1;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (s.delivered[round] < n && Clock::now() < deadline) co_await pause(std::chrono::milliseconds(1));
    if (s.delivered[round] < n) {
      std::fprintf(stderr, "wsload: round %zu reached %zu of %zu\n", round, s.delivered[round], n);
      co_return 1;
    }
    co_await pause(std::chrono::milliseconds(200));
  }
  std::printf("deliveries %zu p50 %.2f p95 %.2f p99 %.2f max %.2f ms\n", s.latencies_ms.size(),
              percentile(s.latencies_ms, 50), percentile(s.latencies_ms, 95), percentile(s.latencies_ms, 99),
              percentile(s.latencies_ms, 100));
  co_return 0;
}

awaitable<int> idle(State& s, std::string token, std::size_t n) {
  const std::vector<std::string> tokens{token};
  const std::string no_topic;  // named: GCC 12 mishandles temporaries as coroutine arguments
  if (!co_await open_all(s, n, tokens, no_topic)) {
    std::fprintf(stderr, "wsload: %zu of %zu connections ready (%zu failed)\n", s.ready, n, s.failed);
    co_return 1;
  }
  std::printf("ready %zu\n", s.ready);
  std::fflush(stdout);
  asio::posix::stream_descriptor in(co_await asio::this_coro::executor, ::dup(0));
  char byte;
  boost::system::error_code ec;
  while (!ec) co_await in.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(use_awaitable, ec));
  std::printf("open %zu\n", s.open);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: see tests/perf/ws_load.cpp\n");
    return 2;
  }
  const std::string mode = argv[1];
  asio::io_context io(1);
  State s;
  s.endpoint =
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[2])));
  int rc = 2;
  auto done = [&](std::exception_ptr e, int r) {
    rc = e ? 1 : r;
    io.stop();
  };
  if (mode == "idle" && argc == 5) {
    asio::co_spawn(io, idle(s, argv[3], std::stoul(argv[4])), done);
  } else if (mode == "fanout" && argc == 9) {
    std::vector<std::string> tokens;
    std::ifstream in(argv[3]);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) tokens.push_back(line);
    }
    if (tokens.empty()) return 2;
    tcp::endpoint edit(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[7])));
    asio::co_spawn(io, fanout(s, tokens, argv[4], std::stoul(argv[5]), std::stoul(argv[6]), edit, argv[8]),
                   done);
  } else {
    std::fprintf(stderr, "usage: see tests/perf/ws_load.cpp\n");
    return 2;
  }
  io.run();
  return rc;
}
