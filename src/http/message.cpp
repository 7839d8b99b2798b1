#include "http/message.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse_query.hpp>

namespace bookspace::http {

core::Awaitable<std::string_view> BufferedBodyStream::next() {
  if (read_) co_return std::string_view();
  read_ = true;
  co_return body_;
}

FileBody::~FileBody() {
  if (fd_ >= 0) ::close(fd_);
}

std::string_view to_string(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::head:
      return "HEAD";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::del:
      return "DELETE";
    case Method::options:
      return "OPTIONS";
    case Method::other:
      return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view text) {
  static constexpr std::pair<std::string_view, Method> names[] = {
      {"GET", Method::get},     {"HEAD", Method::head},  {"POST", Method::post},      {"PUT", Method::put},
      {"PATCH", Method::patch}, {"DELETE", Method::del}, {"OPTIONS", Method::options}};
  for (auto const& [name, m] : names) {
    if (name == text) return m;
  }
  return Method::other;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

void Headers::set(std::string_view name, std::string value) {
  std::erase_if(fields_, [&](auto const& f) { return iequals(f.first, name); });
  fields_.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (auto const& [n, v] : fields_) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  for (auto const& [n, v] : params) {
    if (n == name) return v;
  }
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  if (query.empty()) return std::nullopt;
  auto params = boost::urls::parse_query(query);
  if (!params) return std::nullopt;
  // Keys and values arrive percent-encoded (form encoding: '+' is a space); the dispatcher has
  // already refused a query with a malformed escape.
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  for (auto const& p : *params) {
    if (p.key.decode(form) == name) return p.value.decode(form);
  }
  return std::nullopt;
}

Response Response::json(int status, boost::json::value const& value) {
  Response res{status, {}, boost::json::serialize(value)};
  res.headers.add("Content-Type", "application/json");
  return res;
}

Response Response::json_text(int status, std::string body) {
  Response res{status, {}, std::move(body)};
  res.headers.add("Content-Type", "application/json");
  return res;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response res{status, {}, std::move(body)};
  res.headers.add("Content-Type", std::move(content_type));
  return res;
}

Response problem(core::Error const& error, std::string_view request_id) {
  boost::json::object body;
  body["type"] = "urn:bookspace:problem:" + std::string(core::to_string(error.code));
  body["title"] = core::default_title(error.code);
  body["status"] = core::http_status(error.code);
  body["detail"] = error.detail.empty() ? std::string(core::default_title(error.code)) : error.detail;
  body["code"] = core::to_string(error.code);
  body["request_id"] = request_id;
  if (!error.errors.empty()) {
    boost::json::array errors;
    for (auto const& e : error.errors) errors.push_back({{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(errors);
  }
  Response res{core::http_status(error.code), {}, boost::json::serialize(body)};
  res.headers.add("Content-Type", "application/problem+json");
  if (error.retry_after_s > 0) res.headers.add("Retry-After", std::to_string(error.retry_after_s));
  if (error.code == core::ErrorCode::unauthorized || error.code == core::ErrorCode::invalid_credentials) {
    res.headers.add("WWW-Authenticate", "Bearer");
  }
  return res;
}

Response problem(core::ErrorCode code, std::string detail, std::string_view request_id) {
  return problem(core::Error{code, std::move(detail), {}}, request_id);
}

namespace {
bool is_json_media_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (iequals(type, "application/json")) return true;
  return type.size() > 5 && iequals(type.substr(type.size() - 5), "+json") &&
         iequals(type.substr(0, 12), "application/");
}
/// False when a number in `v` is not finite: 1e999999 parses to infinity, which no JSON text can
/// carry back out (it would be served as `Infinity`, breaking every client that reads it).
bool finite_numbers(boost::json::value const& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      return std::all_of(v.get_array().begin(), v.get_array().end(),
                         [](boost::json::value const& e) { return finite_numbers(e); });
    case boost::json::kind::object:
      return std::all_of(v.get_object().begin(), v.get_object().end(),
                         [](auto const& e) { return finite_numbers(e.value()); });
    default:
      return true;
  }
}
}  // namespace

boost::json::object parse_json_object(Request const& req) {
  auto ct = req.headers.get("Content-Type");
  if (!ct || !is_json_media_type(*ct)) {
    throw core::ApiError(core::ErrorCode::unsupported_media_type,
                         "The body must be JSON with Content-Type: application/json.");
  }
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(req.body, ec, {}, options);
  if (ec) {
    throw core::ApiError(core::Error{core::ErrorCode::validation_failed,
                                     "The body is not valid JSON: " + ec.message() + ".",
                                     {{"body", ec.message()}}});
  }
  if (!finite_numbers(value)) {
    throw core::ApiError(core::Error{core::ErrorCode::validation_failed,
                                     "The body has a number too large to represent.",
                                     {{"body", "numbers must be finite"}}});
  }
  if (!value.is_object()) {
    throw core::ApiError(core::Error{core::ErrorCode::validation_failed,
                                     "The body must be a JSON object.",
                                     {{"body", "expected an object"}}});
  }
  return std::move(value.as_object());
}

int list_limit(Request const& req) {
  auto text = req.query_param("limit");
  if (!text) return 20;
  int n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || end != text->data() + text->size() || n < 1 || n > 100) {
    throw core::ApiError(core::Error::validation("limit", "must be an integer from 1 to 100"));
  }
  return n;
}

void only_fields(boost::json::object const& body, std::initializer_list<std::string_view> allowed) {
  for (auto const& field : body) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(field.key())) == allowed.end()) {
      throw core::ApiError(core::Error::validation(std::string(field.key()), "unknown or read-only field"));
    }
  }
}

std::string string_field(boost::json::object const& body, std::string_view name, bool required) {
  auto const* v = body.if_contains(name);
  if (!v || v->is_null()) {
    if (required) throw core::ApiError(core::Error::validation(std::string(name), "is required"));
    return {};
  }
  if (!v->is_string()) throw core::ApiError(core::Error::validation(std::string(name), "must be a string"));
  return std::string(v->as_string());
}

}  // namespace bookspace::http
