#pragma once

// API.md lists: `?limit=` (http::list_limit) and an opaque `?cursor=` for keyset pages, and the
// {"items": […], "next_cursor": …} shape. Shared by every module's list routes.

#include "core/json_writer.hpp"
#include "http/message.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::http {

/// A keyset position: the list (and sort) it belongs to, the sort key of the last item and its id.
struct Cursor {
  std::string sort;
  std::string key;
  std::string id;
};
std::string encode_cursor(Cursor const& cursor);
/// nullopt for anything encode_cursor did not produce.
std::optional<Cursor> decode_cursor(std::string_view text);

/// The position `?cursor=` names; it must come from a list of the same `kind` (else 400 on
/// `cursor`). nullopt when absent: the first page.
std::optional<Cursor> cursor_param(Request const& req, std::string_view kind);
/// The cursor's key as an integer (times, versions); 400 on `cursor` when it is not one.
long long integer_key(Cursor const& cursor);

/// {"items": […], "next_cursor": …}: `items` holds up to limit + 1 entries; the extra one only
/// says that another page follows, and the cursor points after the last one shown.
template <class T, class ToJson, class CursorOf>
Response page(std::vector<T> items, int limit, ToJson to_json_fn, CursorOf cursor_of) {
  boost::json::value next = nullptr;
  if (items.size() > static_cast<std::size_t>(limit)) {
    items.resize(static_cast<std::size_t>(limit));
    next = boost::json::string(encode_cursor(cursor_of(items.back())));
  }
  boost::json::array list;
  list.reserve(items.size());
  for (auto const& item : items) list.push_back(to_json_fn(item));
  return Response::json(200,
                        boost::json::object{{"items", std::move(list)}, {"next_cursor", std::move(next)}});
}

/// page() for hot lists: each item written by `write(core::JsonWriter&, item)` straight into
/// the body, no JSON tree built.
template <class T, class Write, class CursorOf>
Response written_page(std::vector<T> items, int limit, Write write, CursorOf cursor_of) {
  std::string next;
  const bool more = items.size() > static_cast<std::size_t>(limit);
  if (more) {
    items.resize(static_cast<std::size_t>(limit));
    next = encode_cursor(cursor_of(items.back()));
  }
  std::string body;
  body.reserve(64 + 320 * items.size());
  core::JsonWriter w(body);
  w.begin_object().key("items").begin_array();
  for (auto const& item : items) write(w, item);
  w.end_array().key("next_cursor");
  if (more) {
    w.string(next);
  } else {
    w.null();
  }
  w.end_object();
  return Response::json_text(200, std::move(body));
}

}  // namespace bookspace::http
