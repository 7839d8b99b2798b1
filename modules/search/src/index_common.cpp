#include "index.hpp"

#include "core/database.hpp"
#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <utility>

namespace bookspace::search {

std::string_view to_string(Kind kind) {
  return kind == Kind::document ? "document" : "file";
}

void PageParams::set(Search const& s, int score_digits) {
  want_kind = s.kind ? std::string(to_string(*s.kind)) : std::string();
  char score[40] = "";
  if (s.after) std::snprintf(score, sizeof score, "%.*g", score_digits, s.after->score);
  after_score = score;
  after_id = s.after ? s.after->id : std::string();
  limit = s.limit;
}

void PageParams::bind(soci::statement& st, bool kind, bool after) {
  if (kind) st.exchange(soci::use(want_kind));
  if (after) {
    st.exchange(soci::use(after_score));
    st.exchange(soci::use(after_score));
    st.exchange(soci::use(after_id));
  }
  st.exchange(soci::use(limit));
}

namespace {

// The index is written for every document change (the search consumer), so its statements are
// prepared once per connection (core::prepared).
constexpr std::string_view readers_of_sql = "SELECT user_id FROM search_readers WHERE document_id = :doc";
constexpr std::string_view delete_readers_sql = "DELETE FROM search_readers WHERE document_id = :doc";
constexpr std::string_view insert_reader_sql =
    "INSERT INTO search_readers (document_id, user_id) VALUES (:doc, :user)";
constexpr std::string_view scoped_entries_sql =
    "SELECT entry, always_user FROM search_entries WHERE scope_id = :doc";

struct ReadersVars {
  std::string document_id;
  std::string user;
};

/// The user ids in search_readers for the document.
std::vector<std::string> readers_of(soci::session& sql, std::string const& document_id) {
  auto& q = core::prepared<ReadersVars>(sql, readers_of_sql, [](soci::statement& st, ReadersVars& v) {
    st.exchange(soci::into(v.user));
    st.exchange(soci::use(v.document_id));
  });
  q.vars.document_id = document_id;
  std::vector<std::string> users;
  q.run_each([&users](ReadersVars const& v) { users.push_back(v.user); });
  return users;
}

/// search_readers of the document: exactly `readers`; whether that changed anything.
bool replace_readers(core::Tx& tx, std::string const& document_id, std::vector<std::string> readers) {
  std::vector<std::string> now = readers_of(tx.sql, document_id);
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  std::sort(now.begin(), now.end());
  if (now == readers) return false;
  core::execute(tx.sql, delete_readers_sql, document_id);
  for (auto const& user : readers) core::execute(tx.sql, insert_reader_sql, document_id, user);
  return true;
}

struct ScopedVars {
  std::string document_id;
  long long entry = 0;
  std::string always;
  soci::indicator always_ind = soci::i_null;
};

}  // namespace

void SearchIndex::set_readers(core::Tx& tx, std::string const& document_id,
                              std::vector<std::string> const& readers) {
  if (!replace_readers(tx, document_id, readers)) return;
  std::vector<std::pair<long long, std::optional<std::string>>> scoped;
  auto& q = core::prepared<ScopedVars>(tx.sql, scoped_entries_sql, [](soci::statement& st, ScopedVars& v) {
    st.exchange(soci::into(v.entry));
    st.exchange(soci::into(v.always, v.always_ind));
    st.exchange(soci::use(v.document_id));
  });
  q.vars.document_id = document_id;
  q.run_each([&scoped](ScopedVars const& v) {
    scoped.emplace_back(v.entry,
                        v.always_ind == soci::i_ok ? std::optional<std::string>(v.always) : std::nullopt);
  });
  for (auto const& [entry, always] : scoped)
    write_readers(tx, entry, reader_tokens(tx.sql, document_id, always));
}

std::string reader_token(std::string_view user) {
  std::string token = "r";
  for (unsigned char c : user) {
    if (std::isalnum(c)) token += static_cast<char>(std::tolower(c));
  }
  return token;
}

std::vector<std::string> reader_tokens(soci::session& sql, std::optional<std::string> const& scope,
                                       std::optional<std::string> const& always_user) {
  std::vector<std::string> tokens;
  if (scope) {
    for (auto const& user : readers_of(sql, *scope)) tokens.push_back(reader_token(user));
  }
  if (always_user) tokens.push_back(reader_token(*always_user));
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

std::int64_t SearchIndex::size(soci::session& sql) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM search_entries", soci::into(n);
  return n;
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
