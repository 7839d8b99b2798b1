#pragma once

// Text out of a file's content, for search (job files.extract_text): text/* as it is, HTML with
// its markup stripped, PDF through poppler-cpp. Blocking; runs on a jobs worker thread.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bookspace::files {

struct Extracted {
  std::string text;  ///< valid UTF-8 (invalid bytes replaced by U+FFFD), at most the limit
  bool truncated = false;
  int pages = 0;  ///< PDF: pages read
};

/// Types extract_text reads: text/* (plain, Markdown, CSV, HTML…), JSON, XML, PDF.
bool extractable(std::string_view content_type);

/// The text of an HTML document: script and style dropped, tags become spaces, entities decoded,
/// runs of white space collapsed.
std::string html_to_text(std::string_view html);

/// `text` with invalid UTF-8 replaced by U+FFFD, cut to at most `max_bytes` on a character
/// boundary; true when something was cut.
bool clean_utf8(std::string& text, std::size_t max_bytes);

/// Reads the content behind `fd` (not closed) as `content_type`; `stop` is asked between steps
/// (PDF pages). Throws std::runtime_error for content that cannot be read (a broken or encrypted
/// PDF).
Extracted extract_text(int fd, std::string_view content_type, std::size_t max_bytes,
                       std::function<bool()> const& stop);

}  // namespace bookspace::files
