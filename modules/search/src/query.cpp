#include "query.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace bookspace::search {

namespace {

core::ApiError bad_query(std::string message) {
  return core::ApiError(core::Error::validation("q", std::move(message)));
}

bool word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<std::string> tokens_of(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      current += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    } else if (!current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::optional<Query> parse_query(std::string_view text) {
  if (text.size() > max_query_bytes)
    throw bad_query("must be at most " + std::to_string(max_query_bytes) + " bytes");
  if (core::multi_line_text_problem(text)) throw bad_query("must be valid UTF-8 text");
  Query q;
  std::size_t i = 0, seen = 0;
  bool any = false;
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    if (i >= text.size()) break;
    Term term;
    if (text[i] == '-' && i + 1 < text.size() && !space(text[i + 1])) {
      term.excluded = true;
      ++i;
    }
    std::string_view body;
    if (text[i] == '"') {
      const auto close = text.find('"', i + 1);  // an unbalanced quote runs to the end
      const auto end = close == std::string_view::npos ? text.size() : close;
      body = text.substr(i + 1, end - i - 1);
      i = close == std::string_view::npos ? text.size() : close + 1;
    } else {
      const auto start = i;
      while (i < text.size() && !space(text[i]) && text[i] != '"') ++i;
      body = text.substr(start, i - start);
      if (body.size() > 1 && body.back() == '*') {
        body.remove_suffix(1);
        term.prefix = true;
      }
    }
    if (++seen > max_terms) throw bad_query("may hold at most " + std::to_string(max_terms) + " terms");
    term.tokens = tokens_of(body);
    if (term.tokens.empty()) continue;  // only punctuation: nothing to look for
    if (term.prefix && utf8_chars(term.tokens.back()) < 2)
      throw bad_query("a prefix needs at least 2 characters before the *");
    any = any || !term.excluded;
    q.terms.push_back(std::move(term));
  }
  if (seen == 0) throw bad_query("must not be empty");
  if (q.terms.empty()) return std::nullopt;
  if (!any) throw bad_query("needs at least one word to find, not only exclusions");
  return q;
}

namespace {

std::string fts5_quoted(Term const& t) {
  std::string out = "\"";
  for (std::size_t k = 0; k < t.tokens.size(); ++k) {
    if (k) out += ' ';
    for (char c : t.tokens[k]) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  out += '"';
  if (t.prefix) out += '*';
  return out;
}

}  // namespace

std::string fts5_match(Query const& q) {
  std::string positive, negative;
  for (auto const& t : q.terms) {
    std::string& into = t.excluded ? negative : positive;
    if (!into.empty()) into += t.excluded ? " OR " : " AND ";
    into += fts5_quoted(t);
  }
  return negative.empty() ? positive : "(" + positive + ") NOT (" + negative + ")";
}

std::vector<std::string> fts5_phrases(Query const& q) {
  std::vector<std::string> out;
  for (bool excluded : {false, true}) {
    for (auto const& t : q.terms) {
      if (t.excluded == excluded) out.push_back(fts5_quoted(t));
    }
  }
  return out;
}

std::string pg_tsquery(Query const& q, std::string_view weights) {
  auto lexeme = [weights](std::string const& token, bool prefix) {
    std::string out = "'";
    for (char c : token) {
      if (c == '\'')
        out += "''";
      else if (c == '\\')
        out += "\\\\";
      else
        out += c;
    }
    out += '\'';
    if (prefix || !weights.empty()) out += ':';
    if (prefix) out += '*';
    out += weights;
    return out;
  };
  std::string out;
  for (auto const& t : q.terms) {
    if (!out.empty()) out += " & ";
    std::string term;
    for (std::size_t k = 0; k < t.tokens.size(); ++k) {
      if (k) term += " <-> ";
      term += lexeme(t.tokens[k], t.prefix && k + 1 == t.tokens.size());
    }
    if (t.excluded) out += '!';
    if (t.tokens.size() > 1) {
      out += '(';
      out += term;
      out += ')';
    } else {
      out += term;
    }
  }
  return out;
}

}  // namespace bookspace::search
