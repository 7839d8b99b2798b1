#include "index.hpp"

#include "core/database.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

#include <string>

namespace bookspace::search {

std::string_view to_string(Kind kind) {
  return kind == Kind::document ? "document" : "file";
}

std::vector<Hit> run_ranked(soci::session& sql, std::string const& text, std::string const& engine_query,
                            Search const& s, std::string const& after_score,
                            std::vector<long long>& entries) {
  using soci::into;
  using soci::use;
  const std::string kind = s.kind ? std::string(to_string(*s.kind)) : std::string();
  const std::string after_id = s.after ? s.after->id : std::string();
  soci::row row;
  soci::statement st(sql);
  st.alloc();
  st.prepare(text);
  st.exchange(into(row));
  st.exchange(use(engine_query));
  st.exchange(use(s.user));
  st.exchange(use(s.user));
  if (s.kind) st.exchange(use(kind));
  if (s.after) {
    st.exchange(use(after_score));
    st.exchange(use(after_score));
    st.exchange(use(after_id));
  }
  st.exchange(use(s.limit));
  st.define_and_bind();
  std::vector<Hit> hits;
  if (st.execute(true)) {
    do {
      namespace q = core::sql;
      entries.push_back(q::get_int(row, 0));
      Hit h;
      h.kind = q::get_text(row, 1) == "file" ? Kind::file : Kind::document;
      h.id = q::get_text(row, 2);
      h.title = q::get_text(row, 3);
      h.score = double_of(row, 4);
      h.updated_at = q::get_int(row, 5);
      hits.push_back(std::move(h));
    } while (st.fetch());
  }
  return hits;
}

void replace_readers(core::Tx& tx, std::string const& document_id, std::vector<std::string> const& readers) {
  tx.sql << "DELETE FROM search_readers WHERE document_id = :doc", soci::use(document_id);
  for (auto const& user : readers) {
    tx.sql << "INSERT INTO search_readers (document_id, user_id) VALUES (:doc, :user) ON CONFLICT DO NOTHING",
        soci::use(document_id), soci::use(user);
  }
}

std::string id_list(std::vector<long long> const& entries) {
  std::string ids;
  for (auto e : entries) ids += (ids.empty() ? "" : ",") + std::to_string(e);
  return ids;
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
