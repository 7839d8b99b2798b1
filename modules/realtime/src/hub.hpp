#pragma once

// Who is connected and subscribed to what, and the fan-out of events to them.

#include "rules.hpp"

#include "core/clock.hpp"
#include "http/websocket.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace bookspace::core {
class Counter;
class Histogram;
class Metrics;
struct Event;
}  // namespace bookspace::core
namespace bookspace::http {
struct Principal;
}

namespace bookspace::realtime {

/// One WebSocket client. Lives in its connection's coroutine; the hub holds a pointer between
/// add() and remove(). The identity and topics are the hub's to read and write (under its lock).
struct Client {
  explicit Client(std::shared_ptr<http::WebSocket> s) : socket(std::move(s)) {}
  std::shared_ptr<http::WebSocket> socket;
  std::string user_id, session_id, key_hash;
  std::set<std::string> keys;  ///< subscription keys ("document:<id>", "jobs:<user id>")
};

/// Thread-safe: connections call it from their io threads, the event watch from its own.
/// Sending only queues (http::WebSocket::send), so the lock is never held across I/O.
class Hub {
 public:
  Hub(core::Metrics& metrics, std::size_t max_subscriptions);

  void add(Client& c);
  void remove(Client& c);
  /// No connection at all: no event can matter to anyone (the log's watch skips reading).
  bool idle() const { return clients_count_.load() == 0; }
  /// After a successful `auth`: who the client is now (a refreshed token keeps the user).
  void identify(Client& c, http::Principal const& principal);

  enum class Subscribed { added, already, too_many };
  Subscribed subscribe(Client& c, Topic const& topic);
  /// True when it was subscribed.
  bool unsubscribe(Client& c, Topic const& topic);
  /// Still subscribed (an event may have ended it while its access was checked).
  bool subscribed(Client& c, Topic const& topic) const;

  /// Queues `m` to `c`, counted.
  void send(Client& c, Message const& m);

  /// An event from the log (any instance's commits): fanned out to the subscribers among the
  /// document's readers after it (nobody else gets anything of it); a trash, a purge or an
  /// unshare ends the subscriptions it takes access from, with an error message.
  void on_event(core::Event const& e);

  /// Revocations: the matching connections are closed with 4401.
  void session_revoked(std::string const& session_id);
  void account_disabled(std::string const& account_id);
  void key_revoked(std::string const& key_hash);

 private:
  std::string key_of(Client const& c, Topic const& topic) const;
  /// Whose subscriptions an event ends: nobody's, everyone's (trash, purge), one user's (unshare).
  enum class Ends { none, everyone, one_user };
  void to_document(std::string const& id, std::vector<std::string> const& readers, Ends ends,
                   std::string const& lost_user, std::string_view event, boost::json::object const& data,
                   core::TimeMs occurred_at);
  void to_owner(std::string const& owner_id, std::string_view event, boost::json::object const& data,
                core::TimeMs occurred_at);
  template <class Match>
  void close_where(Match const& match, std::string_view reason);
  void observe_fanout(core::TimeMs occurred_at);
  void send_locked(Client& c, Message const& m);

  const std::size_t max_subscriptions_;
  mutable std::mutex mutex_;
  std::unordered_set<Client*> clients_;
  std::unordered_map<std::string, std::unordered_set<Client*>> subscribers_;  ///< by key
  std::size_t subscriptions_ = 0;
  std::atomic<std::size_t> clients_count_{0};
  core::Counter& messages_;
  core::Counter& dropped_;
  core::Histogram& fanout_;
};

}  // namespace bookspace::realtime
