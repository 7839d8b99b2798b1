#include "extract.hpp"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace bookspace::files {

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string_view media_type(std::string_view content_type) {
  return content_type.substr(0, content_type.find(';'));
}

bool is_html(std::string_view type) {
  return type == "text/html" || type == "application/xhtml+xml";
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// `&…;` at the start of `text`: how many bytes it takes and what it stands for; 0 when it is no
/// entity (the `&` is then literal).
std::size_t decode_entity(std::string_view text, std::string& out) {
  const auto end = text.find(';');
  if (end > 10) return 0;  // also npos: no ';' at all
  const std::string_view name = text.substr(1, end - 1);
  if (!name.empty() && name[0] == '#') {
    const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    unsigned cp = 0;
    for (char c : digits) {
      int d = -1;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      if (d < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<unsigned>(d);
      if (cp > 0x10FFFF) cp = 0x110000;
    }
    append_utf8(out, cp);
    return end + 1;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> named = {
      {{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}, {"#39", "'"}}};
  for (auto const& [n, v] : named) {
    if (name == n) {
      out += v;
      return end + 1;
    }
  }
  return 0;
}

/// Appends `piece`, collapsing white space into single spaces.
void append_collapsed(std::string& out, std::string_view piece) {
  for (char c : piece) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

/// Reads up to `limit` bytes of the file from its start.
std::string read_head(int fd, std::size_t limit) {
  std::string data(limit, '\0');
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::pread(fd, data.data() + got, limit - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

void quiet_poppler(std::string const&, void*) {}

Extracted extract_pdf(int fd, std::size_t max_bytes, std::function<bool()> const& stop) {
  static const bool silenced = [] {
    poppler::set_debug_error_function(&quiet_poppler, nullptr);
    return true;
  }();
  (void)silenced;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path));
  if (!doc) throw std::runtime_error("not a readable PDF");
  if (doc->is_locked()) throw std::runtime_error("the PDF is encrypted");
  Extracted out;
  const int pages = doc->pages();
  for (int i = 0; i < pages && !stop(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const auto bytes = page->text().to_utf8();
    if (!out.text.empty()) out.text += '\n';
    out.text.append(bytes.data(), bytes.size());
    ++out.pages;
    if (out.text.size() > max_bytes) break;
  }
  out.truncated = clean_utf8(out.text, max_bytes) || out.pages < pages;
  return out;
}

}  // namespace

bool extractable(std::string_view content_type) {
  const auto type = media_type(content_type);
  return type.starts_with("text/") || type == "application/json" || type == "application/xml" ||
         type == "application/xhtml+xml" || type == "application/pdf";
}

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const std::string_view rest = html.substr(i);
      if (rest.starts_with("<!--")) {
        const auto end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      // The contents of script and style are no text.
      for (std::string_view raw : {std::string_view("script"), std::string_view("style")}) {
        if (starts_with_nocase(rest.substr(1), raw)) {
          const std::string closing = "</" + std::string(raw);
          std::size_t j = i + 1;
          std::size_t end = std::string_view::npos;
          while ((j = html.find("</", j)) != std::string_view::npos) {
            if (starts_with_nocase(html.substr(j), closing)) {
              end = j;
              break;
            }
            j += 2;
          }
          i = end == std::string_view::npos ? html.size() : end;
          break;
        }
      }
      if (i >= html.size()) break;
      const auto close = html.find('>', i);
      i = close == std::string_view::npos ? html.size() : close + 1;
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if (c == '&') {
      std::string decoded;
      if (const auto n = decode_entity(html.substr(i), decoded); n > 0) {
        append_collapsed(out, decoded);
        i += n;
        continue;
      }
    }
    append_collapsed(out, html.substr(i, 1));
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  return out;
}

bool clean_utf8(std::string& text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  bool cut = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    unsigned cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cb = static_cast<unsigned char>(text[i + k]);
      ok = (cb & 0xC0) == 0x80;
      cp = (cp << 6) | (cb & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok) {
      ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
           !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF && cp != 0;
    }
    const std::string_view piece =
        ok ? std::string_view(text).substr(i, len) : std::string_view("\xEF\xBF\xBD");
    if (out.size() + piece.size() > max_bytes) {
      cut = true;
      break;
    }
    out += piece;
    i += ok ? len : 1;
  }
  text = std::move(out);
  return cut;
}

Extracted extract_text(int fd, std::string_view content_type, std::size_t max_bytes,
                       std::function<bool()> const& stop) {
  const auto type = media_type(content_type);
  if (type == "application/pdf") return extract_pdf(fd, max_bytes, stop);
  Extracted out;
  if (is_html(type)) {
    // Markup takes room: read several times the text limit, then strip it.
    const std::size_t budget = max_bytes * 4 + 1;
    std::string raw = read_head(fd, budget);
    const bool more = raw.size() == budget;
    out.text = html_to_text(raw);
    out.truncated = clean_utf8(out.text, max_bytes) || more;
    return out;
  }
  out.text = read_head(fd, max_bytes + 1);
  out.truncated = clean_utf8(out.text, max_bytes);
  return out;
}

}  // namespace bookspace::files
