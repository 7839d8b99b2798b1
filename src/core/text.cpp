#include "core/text.hpp"

#include <idn2.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include <algorithm>
#include <memory>

namespace bookspace::core {

namespace {

/// Decodes `text`, calling `refuse(code_point)` for each; the first reason it gives wins.
template <class Refuse>
std::optional<std::string> scan(std::string_view text, Refuse refuse) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(text.data());
  if (u8_check(s, text.size()) != nullptr) return std::string("must be valid UTF-8");
  for (std::size_t i = 0; i < text.size();) {
    ucs4_t c = 0;
    const int n = u8_mbtouc(&c, s + i, text.size() - i);
    if (auto why = refuse(c)) return why;
    i += static_cast<std::size_t>(n > 0 ? n : 1);
  }
  return std::nullopt;
}

bool is_format_or_separator(ucs4_t c) {
  if (c == 0x200C || c == 0x200D) return false;  // ZWNJ, ZWJ
  return uc_is_general_category(c, UC_CATEGORY_Cf) || uc_is_general_category(c, UC_CATEGORY_Zl) ||
         uc_is_general_category(c, UC_CATEGORY_Zp);
}

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != std::string_view::npos;
}

bool is_ldh_domain(std::string_view d) {
  if (d.empty() || d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos)
    return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

}  // namespace

std::optional<std::string> one_line_text_problem(std::string_view text) {
  return scan(text, [](ucs4_t c) -> std::optional<std::string> {
    if (uc_is_general_category(c, UC_CATEGORY_Cc)) return "must not contain control characters";
    if (is_format_or_separator(c))
      return "must not contain invisible format characters (U+200B, bidi overrides…)";
    return std::nullopt;
  });
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<std::size_t> checked_code_points(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return std::nullopt;
    }
    i += n;
    ++count;
  }
  return count;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view trim_space(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::string> name_problem(std::string_view text, std::size_t min_chars, std::size_t max_chars) {
  if (auto why = one_line_text_problem(text)) return why;
  const std::size_t n = code_points(text);
  if (n < min_chars || n > max_chars) {
    return std::to_string(min_chars) + "–" + std::to_string(max_chars) + " characters";
  }
  return std::nullopt;
}

std::optional<std::string> multi_line_text_problem(std::string_view text) {
  return scan(text, [](ucs4_t c) -> std::optional<std::string> {
    if (c == '\t' || c == '\n' || c == '\r') return std::nullopt;
    if (uc_is_general_category(c, UC_CATEGORY_Cc)) return "must not contain control characters";
    return std::nullopt;
  });
}

std::optional<std::string> normalize_email(std::string_view raw) {
  const std::string_view email = trim_space(raw);
  if (email.empty() || email.size() > 254 || one_line_text_problem(email)) return std::nullopt;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || email.find('@', at + 1) != std::string_view::npos)
    return std::nullopt;
  std::string local(email.substr(0, at));
  if (!std::all_of(local.begin(), local.end(), is_atext)) return std::nullopt;
  std::transform(local.begin(), local.end(), local.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });

  const std::string domain_in(email.substr(at + 1));
  char* ascii = nullptr;
  if (idn2_to_ascii_8z(domain_in.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
    return std::nullopt;
  }
  std::unique_ptr<char, void (*)(void*)> owned(ascii, idn2_free);
  std::string domain(ascii);
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (!is_ldh_domain(domain)) return std::nullopt;
  std::string out = local + "@" + domain;
  if (out.size() > 254) return std::nullopt;
  return out;
}

}  // namespace bookspace::core
