#include "http/wire.hpp"

#include <boost/beast/http/status.hpp>

#include <ctime>

namespace bookspace::http {

std::string_view reason_phrase(int status) {
  auto code = boost::beast::http::int_to_status(static_cast<unsigned>(status));
  if (code == boost::beast::http::status::unknown) return "Unknown";
  auto text = boost::beast::http::obsolete_reason(code);
  return std::string_view(text.data(), text.size());
}

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string serialize_head(Response const& res, bool keep_alive, bool http10, std::string_view date) {
  std::string out;
  std::size_t estimate = 64;
  for (auto const& [name, value] : res.headers) estimate += name.size() + value.size() + 4;
  out.reserve(estimate);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += reason_phrase(res.status);
  out += "\r\n";
  if (!date.empty()) {
    out += "Date: ";
    out += date;
    out += "\r\n";
  }
  for (auto const& [name, value] : res.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Transfer-Encoding")) {
      continue;
    }
    out += name;
    out += ": ";
    for (char c : value) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
    out += "\r\n";
  }
  const bool bodiless = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  if (!bodiless) {
    out += "Content-Length: ";
    out += std::to_string(res.body_length());
    out += "\r\n";
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace bookspace::http
