#include "core/event_contract.hpp"

#include <stdexcept>

namespace bookspace::core::payload {

namespace {
boost::json::value const& at(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v) throw std::invalid_argument("event payload lacks \"" + std::string(key) + "\"");
  return *v;
}
[[noreturn]] void mistyped(std::string_view key, char const* want) {
  throw std::invalid_argument("event payload field \"" + std::string(key) + "\" is not " + want);
}
}  // namespace

std::string text(boost::json::object const& o, std::string_view key) {
  auto const& v = at(o, key);
  if (!v.is_string()) mistyped(key, "a string");
  return std::string(v.as_string());
}

std::int64_t integer(boost::json::object const& o, std::string_view key) {
  auto const& v = at(o, key);
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  mistyped(key, "an integer");
}

bool boolean(boost::json::object const& o, std::string_view key) {
  auto const& v = at(o, key);
  if (!v.is_bool()) mistyped(key, "a boolean");
  return v.as_bool();
}

TimeMs time(boost::json::object const& o, std::string_view key) {
  auto parsed = parse_rfc3339(text(o, key));
  if (!parsed) mistyped(key, "an RFC 3339 time");
  return *parsed;
}

std::vector<std::string> texts(boost::json::object const& o, std::string_view key) {
  auto const& v = at(o, key);
  if (!v.is_array()) mistyped(key, "an array");
  std::vector<std::string> out;
  for (auto const& item : v.as_array()) {
    if (!item.is_string()) mistyped(key, "an array of strings");
    out.emplace_back(item.as_string());
  }
  return out;
}

boost::json::array array_of(std::vector<std::string> const& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (auto const& s : items) out.emplace_back(s);
  return out;
}

}  // namespace bookspace::core::payload
