#pragma once

#include "core/async.hpp"

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bookspace::http {

/// A request to another BookSpace process (a module's stand-in calling the process that runs
/// the module): plain HTTP/1.1 on a private network. fetch() keeps connections alive per io
/// thread and origin (idle at most 20 s; a request on a connection the server has closed
/// meanwhile is sent once more on a new one — stand-ins' calls are all safe to repeat).
struct ClientRequest {
  std::string method = "GET";
  std::string url;  ///< http://host:port/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                         ///< sent as application/json when not empty
  std::chrono::milliseconds timeout{5000};  ///< the whole exchange: resolve, connect, write, read
  std::size_t response_limit = 16u << 20;   ///< bytes of response body
};

struct ClientResponse {
  int status = 0;
  std::string body;
};

/// The exchange failed (unreachable, timed out, malformed answer); not thrown for 4xx/5xx.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// On the calling coroutine's executor: an io thread is never blocked.
core::Awaitable<ClientResponse> fetch(ClientRequest request);

/// For threads that may block (jobs, the scheduler): runs the exchange on a private io_context
/// in the calling thread. Never call it on an io thread.
ClientResponse fetch_blocking(ClientRequest request);

}  // namespace bookspace::http
