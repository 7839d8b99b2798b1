#include "index.hpp"

#include <soci/soci.h>

#include <string>

namespace bookspace::search {

std::string_view to_string(Kind kind) {
  return kind == Kind::document ? "document" : "file";
}

double double_of(soci::row const& row, std::size_t column) {
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_double:
      return row.get<double>(column);
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return static_cast<double>(row.get<long long>(column));
    case soci::dt_unsigned_long_long:
      return static_cast<double>(row.get<unsigned long long>(column));
    default:
      return std::stod(row.get<std::string>(column));
  }
}

std::string mark_snippet(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 32);
  bool open = false;
  for (char c : raw) {
    switch (c) {
      case '\x01':
        if (!open) out += "<mark>";
        open = true;
        break;
      case '\x02':
        if (open) out += "</mark>";
        open = false;
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  if (open) out += "</mark>";
  return out;
}

std::string indexable(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c == '\x01' || c == '\x02') c = ' ';
  }
  return out;
}

}  // namespace bookspace::search
