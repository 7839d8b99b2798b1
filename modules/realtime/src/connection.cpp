#include "connection.hpp"

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "http/authenticator.hpp"
#include "http/message.hpp"

#include <bookspace/documents/documents.hpp>

#include <algorithm>

namespace bookspace::realtime {

namespace {

using SteadyClock = std::chrono::steady_clock;

/// Removes the client from the hub however the connection ends.
struct Registration {
  Hub& hub;
  Client& client;
  Registration(Hub& h, Client& c) : hub(h), client(c) { hub.add(client); }
  ~Registration() { hub.remove(client); }
};

class Session {
 public:
  Session(ConnectionDeps& deps, http::Request& req, std::shared_ptr<http::WebSocket> socket)
      : deps_(deps), req_(req), client_(std::move(socket)) {}

  core::Awaitable<void> run() {
    Registration registration(deps_.hub, client_);
    auto& socket = *client_.socket;
    socket.close_at(SteadyClock::now() + deps_.auth_timeout, close_unauthenticated,
                    "authenticate within " + std::to_string(deps_.auth_timeout.count()) + " ms");
    while (auto text = co_await socket.read()) {
      if (!take_token()) {  // each message may cost a database query (subscribe): bounded
        deps_.hub.send(
            client_, error_message(core::ErrorCode::rate_limited,
                                   "Too many messages; at most " + std::to_string(deps_.messages_per_second) +
                                       " per second."));
        continue;
      }
      const ClientMessage m = parse_client_message(*text);
      if (m.type == ClientMessage::Type::auth) {
        if (!co_await authenticate(m.token)) co_return;
        continue;
      }
      if (user_id_.empty()) {
        deps_.auth_failures.inc();
        socket.close(close_unauthenticated, "the first message must be auth");
        co_return;
      }
      switch (m.type) {
        case ClientMessage::Type::subscribe:
          co_await subscribe(m.topic);
          break;
        case ClientMessage::Type::unsubscribe:
          unsubscribe(m.topic);
          break;
        case ClientMessage::Type::ping:
          deps_.hub.send(client_, pong_message());
          break;
        default:
          deps_.hub.send(client_, error_message(core::ErrorCode::validation_failed, m.detail));
          break;
      }
    }
  }

 private:
  /// A token bucket of messages_per_second, holding twice that.
  bool take_token() {
    const auto now = SteadyClock::now();
    const double rate = deps_.messages_per_second, capacity = 2.0 * rate;
    if (last_refill_ == SteadyClock::time_point{})
      tokens_ = capacity;
    else
      tokens_ =
          std::min(capacity, tokens_ + rate * std::chrono::duration<double>(now - last_refill_).count());
    last_refill_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  /// The first `auth`, or a fresh token for the same user before the current one expires.
  core::Awaitable<bool> authenticate(std::string const& token) {
    auto& socket = *client_.socket;
    std::optional<http::Principal> principal;
    if (deps_.authenticator) principal = co_await deps_.authenticator->authenticate(token, req_.ctx);
    if (!principal || !principal->authenticated()) {
      deps_.auth_failures.inc();
      socket.close(close_unauthenticated, "invalid or expired token");
      co_return false;
    }
    if (!user_id_.empty() && principal->user_id != user_id_) {
      deps_.auth_failures.inc();
      socket.close(close_unauthenticated, "a token of another user");
      co_return false;
    }
    user_id_ = principal->user_id;
    deps_.hub.identify(client_, *principal);
    if (principal->expires_at > 0) {
      const auto left = std::chrono::milliseconds(principal->expires_at - deps_.clock.now_ms());
      socket.close_at(SteadyClock::now() + left, close_unauthenticated, "access token expired");
    } else {
      socket.close_at({}, 0, {});  // an API key without expiry: until revoked
    }
    deps_.hub.send(client_, authenticated_message(user_id_, principal->expires_at));
    co_return true;
  }

  core::Awaitable<void> subscribe(std::string const& name) {
    const auto topic = parse_topic(name);
    if (!topic) {
      deps_.hub.send(client_, error_message(core::ErrorCode::validation_failed,
                                            "A topic is \"document:<id>\" or \"jobs\".", name));
      co_return;
    }
    const auto added = deps_.hub.subscribe(client_, *topic);
    if (added == Hub::Subscribed::too_many) {
      deps_.hub.send(client_, error_message(core::ErrorCode::quota_exceeded,
                                            "Too many subscriptions on this connection.", name));
      co_return;
    }
    if (topic->kind == Topic::Kind::document && added == Hub::Subscribed::added) {
      // Subscribed first, checked second: an unshare committed meanwhile ends the subscription
      // through its event, and no event reaches a non-reader whatever the check says.
      auto role = documents::Role::none;
      std::optional<core::Error> failed;
      try {
        if (deps_.access) role = co_await deps_.access->role(topic->document_id, user_id_);
      } catch (core::ApiError const& e) {  // the database is overloaded: the client may retry
        failed = e.error();
      }
      if (failed || role == documents::Role::none) {
        deps_.hub.unsubscribe(client_, *topic);
        deps_.hub.send(client_, failed
                                    ? error_message(failed->code, failed->detail, name)
                                    : error_message(core::ErrorCode::not_found, "No such document.", name));
        co_return;
      }
      if (!deps_.hub.subscribed(client_, *topic)) co_return;  // ended by an event meanwhile
    }
    deps_.hub.send(client_, topic_message("subscribed", topic->name()));
  }

  void unsubscribe(std::string const& name) {
    const auto topic = parse_topic(name);
    if (topic) deps_.hub.unsubscribe(client_, *topic);
    deps_.hub.send(client_, topic_message("unsubscribed", name));
  }

  ConnectionDeps& deps_;
  http::Request& req_;
  Client client_;
  std::string user_id_;
  double tokens_ = 0;
  SteadyClock::time_point last_refill_{};
};

}  // namespace

core::Awaitable<void> serve(ConnectionDeps& deps, http::Request& req,
                            std::shared_ptr<http::WebSocket> socket) {
  Session session(deps, req, std::move(socket));
  co_await session.run();
}

}  // namespace bookspace::realtime
