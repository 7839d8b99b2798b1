#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace bookspace::http {

/// The status line and header block of `res` as HTTP/1.1 bytes, ending with the empty line.
/// Adds Content-Length (except for 1xx, 204, 304, where no body may follow) and the Connection
/// header the keep-alive decision needs. A CR, LF or NUL in a header value is replaced by a
/// space, so no handler can split the response; handler-set Content-Length and Connection are
/// ignored in favour of the server's own.
/// `date` is the IMF-fixdate of now (see http_date), sent as the Date header when not empty.
std::string serialize_head(Response const& res, bool keep_alive, bool http10, std::string_view date = {});

/// "Sun, 22 Nov 2026 10:00:00 GMT" for a Unix time.
std::string http_date(std::int64_t unix_seconds);

/// The reason phrase of a status code ("Not Found"); "Unknown" for unregistered codes.
std::string_view reason_phrase(int status);

}  // namespace bookspace::http
