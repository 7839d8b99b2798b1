#pragma once

// The realtime protocol's pure parts (docs/modules/realtime.md): client messages, topics, the
// server's messages. No I/O.

#include "core/error.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::realtime {

/// Close code for "not (or no longer) authenticated": auth timeout, bad or expired token,
/// revoked session (4000 + HTTP 401, as Phoenix and others use).
constexpr std::uint16_t close_unauthenticated = 4401;

/// `document:<id>` (a document's changes and comments) or `jobs` (the caller's own jobs).
struct Topic {
  enum class Kind { document, jobs };
  Kind kind = Kind::jobs;
  std::string document_id;  ///< for Kind::document
  std::string name() const;
};

/// nullopt for a topic that is not one of the two forms. A document id is 1–64 characters of
/// [0-9A-Za-z-] (anything else cannot name a document: treated like a missing one).
std::optional<Topic> parse_topic(std::string_view text);

struct ClientMessage {
  enum class Type { auth, subscribe, unsubscribe, ping, invalid };
  Type type = Type::invalid;
  std::string token;   ///< auth
  std::string topic;   ///< subscribe, unsubscribe (as sent)
  std::string detail;  ///< invalid: what is wrong, for the error message
};

/// One message from the client: a JSON object with a string `type` — `auth` with `token`,
/// `subscribe`/`unsubscribe` with `topic`, `ping`. Anything else is Type::invalid with a detail
/// (never an exception).
ClientMessage parse_client_message(std::string_view text);

/// "documents.updated.v1" → "documents.updated" (API.md names events without their version).
std::string_view event_name(std::string_view type);

/// What an event shows a subscriber: its payload without who else may read the document.
boost::json::object public_data(boost::json::object payload);

/// The server's messages, serialized once (a fan-out shares one).
using Message = std::shared_ptr<const std::string>;
Message event_message(std::string_view topic, std::string_view event, boost::json::object const& data);
Message error_message(core::ErrorCode code, std::string_view detail, std::string_view topic = {});
/// {"type": type, "topic": topic} — subscribed, unsubscribed.
Message topic_message(std::string_view type, std::string_view topic);
/// {"type":"authenticated","user_id":…,"expires_at":RFC 3339 | null}
Message authenticated_message(std::string_view user_id, std::int64_t expires_at_ms);
Message pong_message();

}  // namespace bookspace::realtime
