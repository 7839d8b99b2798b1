#pragma once

// API.md lists: `?limit=` (http::list_limit) and an opaque `?cursor=` for keyset pages, and the
// {"items": […], "next_cursor": …} shape. Shared by every module's list routes.

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

}  // namespace bookspace::http
