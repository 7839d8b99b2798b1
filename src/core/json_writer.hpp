#pragma once

// JSON written straight into a string, for hot responses (lists, documents): no tree of
// boost::json values built and serialized, and JSON already stored as text (a document's tags)
// copied in as it is. Commas are placed by the writer; the caller keeps keys and values paired.
//
//   std::string body;
//   core::JsonWriter w(body);
//   w.begin_object().key("id").string(id).key("tags").raw(tags_json).end_object();

#include "core/clock.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {

/// Appends `text` as a JSON string (quotes, backslashes and control characters escaped).
void append_json_string(std::string& out, std::string_view text);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& integer(std::int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  /// An RFC 3339 time string with milliseconds.
  JsonWriter& time(TimeMs ms);
  /// `json` as it is: the caller vouches that it is one valid JSON value.
  JsonWriter& raw(std::string_view json);

 private:
  void value_start();

  std::string& out_;
  std::vector<bool> first_{true};  ///< per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace bookspace::core
