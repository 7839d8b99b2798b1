#include "rules.hpp"

#include "core/clock.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace bookspace::realtime {

namespace json = boost::json;

namespace {

constexpr std::string_view document_prefix = "document:";

bool id_character(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

Message shared(json::object const& o) {
  return std::make_shared<const std::string>(json::serialize(o));
}

ClientMessage invalid(std::string detail) {
  ClientMessage m;
  m.detail = std::move(detail);
  return m;
}

}  // namespace

std::string Topic::name() const {
  return kind == Kind::jobs ? std::string("jobs") : std::string(document_prefix) + document_id;
}

std::optional<Topic> parse_topic(std::string_view text) {
  if (text == "jobs") return Topic{Topic::Kind::jobs, {}};
  if (!text.starts_with(document_prefix)) return std::nullopt;
  const auto id = text.substr(document_prefix.size());
  if (id.empty() || id.size() > 64) return std::nullopt;
  for (char c : id) {
    if (!id_character(c)) return std::nullopt;
  }
  return Topic{Topic::Kind::document, std::string(id)};
}

ClientMessage parse_client_message(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return invalid("A message is a JSON object with a \"type\".");
  auto const& o = v.as_object();
  auto string_field = [&](std::string_view key) -> json::string const* {
    auto const* f = o.if_contains(key);
    return f ? f->if_string() : nullptr;
  };
  auto const* type = string_field("type");
  if (!type) return invalid("A message is a JSON object with a \"type\".");
  ClientMessage m;
  if (*type == "auth") {
    auto const* token = string_field("token");
    if (!token || token->empty()) return invalid("\"auth\" needs a \"token\".");
    m.type = ClientMessage::Type::auth;
    m.token = std::string(*token);
  } else if (*type == "subscribe" || *type == "unsubscribe") {
    auto const* topic = string_field("topic");
    if (!topic) return invalid("\"" + std::string(*type) + "\" needs a \"topic\".");
    m.type = *type == "subscribe" ? ClientMessage::Type::subscribe : ClientMessage::Type::unsubscribe;
    m.topic = std::string(*topic);
  } else if (*type == "ping") {
    m.type = ClientMessage::Type::ping;
  } else {
    return invalid("Unknown message type; expected auth, subscribe, unsubscribe or ping.");
  }
  return m;
}

std::string_view event_name(std::string_view type) {
  const auto dot = type.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= type.size() || type[dot + 1] != 'v') return type;
  for (char c : type.substr(dot + 2)) {
    if (c < '0' || c > '9') return type;
  }
  return type.substr(0, dot);
}

json::object public_data(json::object payload) {
  payload.erase("readers");
  payload.erase("former_readers");
  return payload;
}

Message event_message(std::string_view topic, std::string_view event, json::object const& data) {
  return shared({{"type", "event"}, {"topic", topic}, {"event", event}, {"data", data}});
}

Message error_message(core::ErrorCode code, std::string_view detail, std::string_view topic) {
  json::object o{{"type", "error"}, {"code", core::to_string(code)}, {"detail", detail}};
  if (!topic.empty()) o["topic"] = topic;
  return shared(o);
}

Message topic_message(std::string_view type, std::string_view topic) {
  return shared({{"type", type}, {"topic", topic}});
}

Message authenticated_message(std::string_view user_id, std::int64_t expires_at_ms) {
  json::value expires = nullptr;
  if (expires_at_ms > 0) expires = core::format_rfc3339(expires_at_ms);
  return shared({{"type", "authenticated"}, {"user_id", user_id}, {"expires_at", expires}});
}

Message pong_message() {
  static const Message pong = shared({{"type", "pong"}});
  return pong;
}

}  // namespace bookspace::realtime
