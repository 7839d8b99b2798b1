#pragma once

// The events files publishes (STYLE.md 15; core/event_contract.hpp), fields in docs/events.md.

#include "core/clock.hpp"
#include "core/event_contract.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::files {

/// A file was stored (its blob may have been there already: `sha256` says which content).
struct Uploaded {
  static constexpr std::string_view type = "files.uploaded.v1";
  std::string id, name, content_type, sha256, owner_id;
  std::int64_t size = 0;
  std::optional<std::string> document_id;
  core::TimeMs created_at = 0;
  boost::json::object to_json() const;
  static Uploaded from_json(boost::json::object const& payload);
};

struct Deleted {
  static constexpr std::string_view type = "files.deleted.v1";
  std::string id, owner_id;
  std::optional<std::string> document_id;
  boost::json::object to_json() const;
  static Deleted from_json(boost::json::object const& payload);
};

/// The text of a file (job files.extract_text), for search: at most files.extract_max_bytes of
/// UTF-8 (`truncated` when there was more). A file attached to a document is readable by the
/// document's readers, any other only by its owner.
struct TextExtracted {
  static constexpr std::string_view type = "files.text_extracted.v1";
  std::string id, name, content_type, owner_id;
  std::optional<std::string> document_id;
  std::string text;
  bool truncated = false;
  core::TimeMs extracted_at = 0;
  boost::json::object to_json() const;
  static TextExtracted from_json(boost::json::object const& payload);
};

// ---- implementation --------------------------------------------------------------------------

namespace detail {
inline boost::json::value optional_text(std::optional<std::string> const& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
inline std::optional<std::string> optional_text_from(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v) throw std::invalid_argument(std::string(key) + ": missing");
  if (v->is_null()) return std::nullopt;
  return core::payload::text(o, key);
}
}  // namespace detail

inline boost::json::object Uploaded::to_json() const {
  return {{"id", id},
          {"name", name},
          {"content_type", content_type},
          {"sha256", sha256},
          {"owner_id", owner_id},
          {"size", size},
          {"document_id", detail::optional_text(document_id)},
          {"created_at", core::format_rfc3339(created_at)}};
}
inline Uploaded Uploaded::from_json(boost::json::object const& o) {
  namespace p = core::payload;
  return {p::text(o, "id"),
          p::text(o, "name"),
          p::text(o, "content_type"),
          p::text(o, "sha256"),
          p::text(o, "owner_id"),
          p::integer(o, "size"),
          detail::optional_text_from(o, "document_id"),
          p::time(o, "created_at")};
}

inline boost::json::object Deleted::to_json() const {
  return {{"id", id}, {"owner_id", owner_id}, {"document_id", detail::optional_text(document_id)}};
}
inline Deleted Deleted::from_json(boost::json::object const& o) {
  namespace p = core::payload;
  return {p::text(o, "id"), p::text(o, "owner_id"), detail::optional_text_from(o, "document_id")};
}

inline boost::json::object TextExtracted::to_json() const {
  return {{"id", id},
          {"name", name},
          {"content_type", content_type},
          {"owner_id", owner_id},
          {"document_id", detail::optional_text(document_id)},
          {"text", text},
          {"truncated", truncated},
          {"extracted_at", core::format_rfc3339(extracted_at)}};
}
inline TextExtracted TextExtracted::from_json(boost::json::object const& o) {
  namespace p = core::payload;
  return {p::text(o, "id"),
          p::text(o, "name"),
          p::text(o, "content_type"),
          p::text(o, "owner_id"),
          detail::optional_text_from(o, "document_id"),
          p::text(o, "text"),
          p::boolean(o, "truncated"),
          p::time(o, "extracted_at")};
}

}  // namespace bookspace::files
