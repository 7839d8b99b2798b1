// Fuzzes what a client controls before any handler runs: the HTTP/1.1 request parser with the
// server's limits, the router's path matching and decoding, query parsing, and the JSON body
// parser. Any crash, hang or sanitizer report is a bug; thrown ApiErrors are expected.
#include "core/error.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>

namespace {

using namespace bookspace;

http::Router const& router() {
  static http::Router r = [] {
    http::Router out;
    auto noop = [](http::Request&) -> core::Awaitable<http::Response> {
      co_return http::Response::no_content();
    };
    for (auto const* pattern : {"/healthz", "/api/v1/documents", "/api/v1/documents/{id}",
                                "/api/v1/documents/{id}/versions/{n}", "/api/v1/files/{id}/content"}) {
      out.add(http::Method::get, pattern, noop);
      out.add(http::Method::post, pattern, noop);
    }
    return out;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  auto const& msg = parser.get();
  http::Request req;
  req.method_text = std::string(msg.method_string());
  req.method = http::parse_method(req.method_text);
  req.target = std::string(msg.target());
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (auto const& f : msg) req.headers.add(std::string(f.name_string()), std::string(f.value()));
  req.body = msg.body();
  auto match = router().match(req.method, req.path);
  (void)match;
  (void)req.query_param("cursor");
  try {
    (void)http::parse_json_object(req);
  } catch (core::ApiError const&) {
  }
  return 0;
}
