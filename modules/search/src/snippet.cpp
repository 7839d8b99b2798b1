#include "snippet.hpp"

#include <algorithm>
#include <vector>

namespace bookspace::search {

namespace {

// U+00C0 … U+017F: the base letter, '_' where there is none (kept as it is).
constexpr std::string_view latin_fold =
    "aaaaaaaceeeeiiiidnooooo_ouuuuytsaaaaaaaceeeeiiiidnooooo_"
    "ouuuuytyaaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiii"
    "iiiiiiiijjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static_assert(latin_fold.size() == 0x180 - 0xC0);

bool word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/// The length of the character at `i` when it belongs to a word, else 0. Non-ASCII characters
/// are letters unless they are punctuation, spaces or format characters (U+202E, a zero-width
/// space…): PostgreSQL's parser ends a word there too, so a hit next to one is still a hit.
std::size_t word_char(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return word_byte(c) ? 1 : 0;
  const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > text.size()) return 1;  // a stray byte: part of whatever it is in
  unsigned cp = c & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  const bool separator = (cp >= 0x80 && cp <= 0xBF && cp != 0xAA && cp != 0xB5 && cp != 0xBA) || cp == 0xD7 ||
                         cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
                         (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF ||
                         (cp >= 0xFFF0 && cp <= 0xFFFF);
  return separator ? 0 : len;
}

/// The length of the character at `i` (1 for ASCII and stray bytes).
std::size_t char_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return i + len > text.size() ? 1 : len;
}

struct Word {
  std::size_t begin, end;  ///< byte offsets in the text
  bool hit = false;
};

}  // namespace

std::string fold(std::string_view token) {
  std::string out;
  fold_into(out, token);
  return out;
}

void fold_into(std::string& out, std::string_view token) {
  out.clear();
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c == 0xC3 || c == 0xC4 || c == 0xC5) && i + 1 < token.size()) {
      const unsigned cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(token[i + 1]) & 0x3F);
      if (cp >= 0xC0 && cp < 0x180 && latin_fold[cp - 0xC0] != '_') {
        out += latin_fold[cp - 0xC0];
      } else {
        out.append(token.substr(i, 2));
      }
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string window_snippet(std::string_view text, Query const& q, std::size_t words) {
  std::vector<std::pair<std::string, bool>> wanted;  // folded token, prefix
  for (auto const& t : q.terms) {
    if (t.excluded) continue;
    for (std::size_t k = 0; k < t.tokens.size(); ++k)
      wanted.emplace_back(fold(t.tokens[k]), t.prefix && k + 1 == t.tokens.size());
  }
  std::string firsts, folded;  // the wanted tokens' first characters; a word, folded
  for (auto const& w : wanted) {
    if (!w.first.empty()) firsts += w.first[0];
  }
  std::vector<Word> list;
  for (std::size_t i = 0; i < text.size();) {
    if (word_char(text, i) == 0) {
      i += char_length(text, i);
      continue;
    }
    const std::size_t begin = i;
    for (std::size_t n; i < text.size() && (n = word_char(text, i)) > 0;) i += n;
    Word w{begin, i};
    // Most words cannot match: an ASCII first letter none of the wanted tokens starts with
    // rules a word out before it is folded (into one reused buffer).
    const auto first = static_cast<unsigned char>(text[begin]);
    const char lower =
        first >= 'A' && first <= 'Z' ? static_cast<char>(first - 'A' + 'a') : static_cast<char>(first);
    if (first >= 0x80 || firsts.find(lower) != std::string::npos) {
      fold_into(folded, text.substr(begin, i - begin));
      for (auto const& [token, prefix] : wanted) {
        if (prefix ? folded.starts_with(token) : folded == token) w.hit = true;
      }
    }
    list.push_back(w);
    if (list.size() > 200'000) break;  // bounded work on a huge text
  }
  if (list.empty()) return std::string(text.substr(0, std::min<std::size_t>(text.size(), 200)));
  // The window of `words` words holding most hits (the first such), starting a few words
  // before its first hit.
  std::size_t best = 0, best_hits = 0, hits = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    hits += list[i].hit;
    if (i >= words) hits -= list[i - words].hit;
    if (hits > best_hits) {
      best_hits = hits;
      best = i + 1 >= words ? i + 1 - words : 0;
    }
  }
  if (best_hits > 0) {
    while (best < list.size() && !list[best].hit) ++best;
    best = best >= 5 ? best - 5 : 0;
  }
  const std::size_t last = std::min(list.size(), best + words) - 1;
  std::string out;
  if (best > 0) out += "… ";
  // Before the first word and after the last, only a little of what is there (punctuation).
  std::size_t at = best > 0 ? list[best].begin : list[0].begin - std::min<std::size_t>(list[0].begin, 64);
  for (std::size_t i = best; i <= last; ++i) {
    out.append(text.substr(at, list[i].begin - at));
    if (list[i].hit) out += '\x01';
    out.append(text.substr(list[i].begin, list[i].end - list[i].begin));
    if (list[i].hit) out += '\x02';
    at = list[i].end;
  }
  if (last + 1 < list.size()) {
    out += " …";
  } else {
    out.append(text.substr(at, std::min<std::size_t>(text.size() - at, 64)));
  }
  return out;
}

std::string plain_words(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80 && !word_byte(b) && c != ' ' && c != '\n' && c != '\t' && c != '\r') c = ' ';
  }
  return out;
}

}  // namespace bookspace::search
