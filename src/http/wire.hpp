#pragma once

#include "http/message.hpp"

#include <string>
#include <string_view>

namespace bookspace::http {

/// The status line and header block of `res` as HTTP/1.1 bytes, ending with the empty line.
/// Adds Content-Length (except for 1xx, 204, 304, where no body may follow) and the Connection
/// header the keep-alive decision needs. A CR, LF or NUL in a header value is replaced by a
/// space, so no handler can split the response; handler-set Content-Length and Connection are
/// ignored in favour of the server's own.
std::string serialize_head(Response const& res, bool keep_alive, bool http10);

/// The reason phrase of a status code ("Not Found"); "Unknown" for unregistered codes.
std::string_view reason_phrase(int status);

}  // namespace bookspace::http
