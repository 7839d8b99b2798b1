#include "multipart.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace bookspace::files {

namespace {

constexpr std::size_t max_header_block = 16 * 1024;
constexpr std::size_t max_parts = 64;

core::ApiError malformed(std::string why) {
  return core::ApiError(core::Error::validation("body", "not valid multipart/form-data: " + std::move(why)));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// `type; key=value; key="quoted \"value\""` → lower-cased keys with their values (first wins).
std::vector<std::pair<std::string, std::string>> parameters(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    const auto eq = header.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = lower(core::trim_blanks(header.substr(i, eq - i)));
    std::size_t j = eq + 1;
    while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
    std::string value;
    if (j < header.size() && header[j] == '"') {
      ++j;
      while (j < header.size() && header[j] != '"') {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value += header[j++];
      }
      if (j >= header.size()) throw malformed("an unterminated quoted string");
      i = header.find(';', j + 1);
    } else {
      const auto end = header.find(';', j);
      value = std::string(core::trim_blanks(
          header.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (lower(core::trim_blanks(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  for (auto const& [key, value] : parameters(content_type)) {
    if (key != "boundary") continue;
    // RFC 2046: 1–70 characters from a restricted set, not ending in a space.
    static constexpr std::string_view allowed =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
    if (value.empty() || value.size() > 70 || value.back() == ' ' ||
        value.find_first_not_of(allowed) != std::string::npos)
      break;
    return value;
  }
  throw core::ApiError(core::Error::validation("Content-Type", "multipart/form-data needs a valid boundary"));
}

MultipartParser::MultipartParser(std::string const& boundary)
    : delimiter_("\r\n--" + boundary), buf_("\r\n") {}

void MultipartParser::feed(std::string_view data, std::string& out) {
  buf_.append(data);
  for (;;) {
    switch (state_) {
      case State::preamble:
      case State::body: {
        const auto at = buf_.find(delimiter_);
        if (at == std::string::npos) {
          // Keep what could be the start of a delimiter split across chunks.
          const std::size_t keep = std::min(buf_.size(), delimiter_.size() - 1);
          if (state_ == State::body && in_file_) out.append(buf_, 0, buf_.size() - keep);
          buf_.erase(0, buf_.size() - keep);
          return;
        }
        if (state_ == State::body && in_file_) out.append(buf_, 0, at);
        buf_.erase(0, at + delimiter_.size());
        state_ = State::after_delimiter;
        in_file_ = false;
        break;
      }
      case State::after_delimiter: {
        // Transport padding (spaces, tabs) may precede the line end.
        std::size_t i = 0;
        while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
        if (i > 1024) throw malformed("too much padding after a boundary");
        if (buf_.size() - i < 2) return;
        if (buf_.compare(i, 2, "--") == 0) {
          state_ = State::done;
          buf_.clear();
          return;
        }
        if (buf_.compare(i, 2, "\r\n") != 0) throw malformed("a boundary not followed by a line end");
        buf_.erase(0, i + 2);
        if (++parts_ > max_parts) throw malformed("more than 64 parts");
        state_ = State::headers;
        break;
      }
      case State::headers: {
        const auto end = buf_.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (buf_.size() > max_header_block) throw malformed("part headers over 16 KiB");
          if (buf_.starts_with("\r\n")) {  // a part without headers
            buf_.erase(0, 2);
            parse_headers({});
            state_ = State::body;
            break;
          }
          return;
        }
        // However the bytes arrived (the whole block in one chunk, too), the limit holds.
        if (end > max_header_block) throw malformed("part headers over 16 KiB");
        parse_headers(std::string_view(buf_).substr(0, end));
        buf_.erase(0, end + 4);
        state_ = State::body;
        break;
      }
      case State::done:
        buf_.clear();  // the epilogue is ignored
        return;
    }
  }
}

void MultipartParser::parse_headers(std::string_view block) {
  std::optional<std::string> name, file_name, type;
  std::size_t start = 0;
  while (start < block.size()) {
    auto end = block.find("\r\n", start);
    if (end == std::string_view::npos) end = block.size();
    const auto line = block.substr(start, end - start);
    start = end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) throw malformed("a part header without a colon");
    const std::string field = lower(core::trim_blanks(line.substr(0, colon)));
    const auto value = core::trim_blanks(line.substr(colon + 1));
    if (field == "content-disposition") {
      if (lower(core::trim_blanks(value.substr(0, value.find(';')))) != "form-data")
        throw malformed("a part that is not form-data");
      for (auto const& [key, v] : parameters(value)) {
        if (key == "name" && !name) name = v;
        if (key == "filename" && !file_name) file_name = v;
      }
    } else if (field == "content-type") {
      type = std::string(value);
    }
  }
  in_file_ = name && *name == "file";
  if (!in_file_) return;
  if (file_seen_) throw malformed("two parts named file");
  file_seen_ = true;
  // Browsers write a name's `"`, CR and LF as %22, %0D and %0A (HTML's multipart/form-data):
  // decoded, the name is the one ?name= or tus metadata would give (and sanitized the same way).
  if (file_name) {
    std::string decoded;
    for (std::size_t i = 0; i < file_name->size(); ++i) {
      const std::string_view rest = std::string_view(*file_name).substr(i);
      if (rest.starts_with("%22")) {
        decoded += '"';
      } else if (rest.starts_with("%0D") || rest.starts_with("%0d")) {
        decoded += '\r';
      } else if (rest.starts_with("%0A") || rest.starts_with("%0a")) {
        decoded += '\n';
      } else {
        decoded += (*file_name)[i];
        continue;
      }
      i += 2;
    }
    file_name = std::move(decoded);
  }
  filename = file_name;
  content_type = type;
}

void MultipartParser::finish() const {
  if (state_ != State::done) throw malformed("the closing boundary is missing");
  if (!file_seen_) throw core::ApiError(core::Error::validation("file", "a part named file is required"));
}

core::Awaitable<std::string_view> MultipartFile::next() {
  out_.clear();
  while (out_.empty() && !ended_) {
    const auto chunk = co_await body_.next();
    if (chunk.empty()) {
      ended_ = true;
      parser_.finish();
      break;
    }
    parser_.feed(chunk, out_);
  }
  co_return std::string_view(out_);
}

}  // namespace bookspace::files
