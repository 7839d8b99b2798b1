#include "hub.hpp"

#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/metrics.hpp"
#include "http/message.hpp"

#include <bookspace/auth/events.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/jobs/events.hpp>

#include <chrono>
#include <string_view>

namespace bookspace::realtime {

namespace json = boost::json;

namespace {

constexpr std::string_view jobs_key_prefix = "jobs:";

/// Membership in an event's `readers`: a hash set once the list is long (a document shared
/// with a thousand users, fanned out to as many).
class ReaderSet {
 public:
  explicit ReaderSet(std::vector<std::string> const& readers) : list_(readers) {
    if (readers.size() > 16) set_.insert(readers.begin(), readers.end());
  }
  bool contains(std::string const& user) const {
    if (user.empty()) return false;
    if (!set_.empty()) return set_.contains(user);
    for (auto const& r : list_) {
      if (r == user) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> const& list_;
  std::unordered_set<std::string_view> set_;
};

}  // namespace

Hub::Hub(core::Metrics& metrics, std::size_t max_subscriptions)
    : max_subscriptions_(max_subscriptions),
      messages_(metrics.counter("realtime_messages_total", "Messages queued to realtime clients.")),
      dropped_(metrics.counter("realtime_dropped_total",
                               "Messages not sent: the client's queue was full (it was closed, 1013) "
                               "or it was closing.")),
      fanout_(metrics.histogram("realtime_fanout_seconds",
                                "From an event's commit to its messages queued to every subscriber.")) {
  metrics.collector(
      "realtime_subscriptions", "Realtime subscriptions held.", "gauge", [this](std::string& out) {
        std::lock_guard lock(mutex_);
        core::append_sample(out, "realtime_subscriptions", "", static_cast<double>(subscriptions_));
      });
}

void Hub::add(Client& c) {
  std::lock_guard lock(mutex_);
  clients_.insert(&c);
  clients_count_ = clients_.size();
}

void Hub::remove(Client& c) {
  std::lock_guard lock(mutex_);
  for (auto const& key : c.keys) {
    if (auto it = subscribers_.find(key); it != subscribers_.end()) {
      it->second.erase(&c);
      if (it->second.empty()) subscribers_.erase(it);
    }
  }
  subscriptions_ -= c.keys.size();
  c.keys.clear();
  clients_.erase(&c);
  clients_count_ = clients_.size();
}

void Hub::identify(Client& c, http::Principal const& principal) {
  std::lock_guard lock(mutex_);
  c.user_id = principal.user_id;
  c.session_id = principal.session_id;
  c.key_hash = principal.key_hash;
}

std::string Hub::key_of(Client const& c, Topic const& topic) const {
  return topic.kind == Topic::Kind::jobs ? std::string(jobs_key_prefix) + c.user_id : topic.name();
}

Hub::Subscribed Hub::subscribe(Client& c, Topic const& topic) {
  std::lock_guard lock(mutex_);
  auto key = key_of(c, topic);
  if (c.keys.contains(key)) return Subscribed::already;
  if (c.keys.size() >= max_subscriptions_) return Subscribed::too_many;
  subscribers_[key].insert(&c);
  c.keys.insert(std::move(key));
  ++subscriptions_;
  return Subscribed::added;
}

bool Hub::unsubscribe(Client& c, Topic const& topic) {
  std::lock_guard lock(mutex_);
  const auto key = key_of(c, topic);
  if (!c.keys.erase(key)) return false;
  if (auto it = subscribers_.find(key); it != subscribers_.end()) {
    it->second.erase(&c);
    if (it->second.empty()) subscribers_.erase(it);
  }
  --subscriptions_;
  return true;
}

bool Hub::subscribed(Client& c, Topic const& topic) const {
  std::lock_guard lock(mutex_);
  return c.keys.contains(key_of(c, topic));
}

void Hub::send(Client& c, Message const& m) {
  std::lock_guard lock(mutex_);
  send_locked(c, m);
}

void Hub::send_locked(Client& c, Message const& m) {
  if (c.socket->send(m)) {
    messages_.inc();
  } else {
    dropped_.inc();
  }
}

void Hub::on_event(core::Event const& e) {
  // Documents: to the document's subscribers who are among its readers after the change. Only
  // an explicit loss of access ends a subscription (a trash, a purge, an unshare of that user):
  // an older event still on its way — committed before the subscriber's access check — lists
  // readers of its time and must not end a subscription granted since.
  auto document = [&]<class E>(std::optional<E> const& ev, Ends ends, std::string const& lost_user = {}) {
    if (!ev) return false;
    to_document(ev->id, ev->readers, ends, lost_user, event_name(E::type), public_data(ev->to_json()),
                e.occurred_at);
    return true;
  };
  if (document(core::event_as<documents::Created>(e), Ends::none) ||
      document(core::event_as<documents::Updated>(e), Ends::none) ||
      document(core::event_as<documents::Restored>(e), Ends::none) ||
      document(core::event_as<documents::Deleted>(e), Ends::everyone) ||
      document(core::event_as<documents::Purged>(e), Ends::everyone) ||
      document(core::event_as<documents::Shared>(e), Ends::none) ||
      document(core::event_as<documents::CommentAdded>(e), Ends::none)) {
    return;
  }
  if (auto unshared = core::event_as<documents::Unshared>(e)) {
    document(unshared, Ends::one_user, unshared->user_id);
    return;
  }
  // Jobs: to their owner's `jobs` subscribers.
  auto job = [&]<class E>(std::optional<E> const& ev) {
    if (!ev) return false;
    to_owner(ev->owner_id, event_name(E::type), ev->to_json(), e.occurred_at);
    return true;
  };
  if (job(core::event_as<jobs::Succeeded>(e)) || job(core::event_as<jobs::Failed>(e)) ||
      job(core::event_as<jobs::Cancelled>(e))) {
    return;
  }
  // Revocations: the connections authenticated by what was revoked close at once.
  if (auto revoked = core::event_as<auth::SessionRevoked>(e)) {
    session_revoked(revoked->session_id);
  } else if (auto updated = core::event_as<auth::AccountUpdated>(e); updated && updated->disabled) {
    account_disabled(updated->id);
  } else if (auto key = core::event_as<auth::ApiKeyRevoked>(e)) {
    key_revoked(key->key_hash);
  }
}

void Hub::to_document(std::string const& id, std::vector<std::string> const& readers, Ends ends,
                      std::string const& lost_user, std::string_view event, json::object const& data,
                      core::TimeMs occurred_at) {
  const std::string key = Topic{Topic::Kind::document, id}.name();
  std::lock_guard lock(mutex_);
  auto it = subscribers_.find(key);
  if (it == subscribers_.end()) return;
  const ReaderSet allowed(readers);
  Message message;  // built once, shared by every subscriber
  std::vector<Client*> lost;
  for (Client* c : it->second) {
    if (ends == Ends::everyone || (ends == Ends::one_user && c->user_id == lost_user)) {
      lost.push_back(c);
    } else if (allowed.contains(c->user_id)) {
      if (!message) message = event_message(key, event, data);
      send_locked(*c, message);
    }
  }
  if (!lost.empty()) {
    const auto ended =
        error_message(core::ErrorCode::not_found, "The document is gone or no longer shared with you.", key);
    for (Client* c : lost) {
      it->second.erase(c);
      c->keys.erase(key);
      --subscriptions_;
      send_locked(*c, ended);
    }
    if (it->second.empty()) subscribers_.erase(it);
  }
  observe_fanout(occurred_at);
}

void Hub::to_owner(std::string const& owner_id, std::string_view event, json::object const& data,
                   core::TimeMs occurred_at) {
  std::lock_guard lock(mutex_);
  auto it = subscribers_.find(std::string(jobs_key_prefix) + owner_id);
  if (it == subscribers_.end()) return;
  const auto message = event_message("jobs", event, data);
  for (Client* c : it->second) send_locked(*c, message);
  observe_fanout(occurred_at);
}

void Hub::observe_fanout(core::TimeMs occurred_at) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  fanout_.observe(static_cast<double>(std::max<std::int64_t>(0, now - occurred_at)) / 1000.0);
}

template <class Match>
void Hub::close_where(Match const& match, std::string_view reason) {
  std::lock_guard lock(mutex_);
  for (Client* c : clients_) {
    if (match(*c)) c->socket->close(close_unauthenticated, std::string(reason));
  }
}

void Hub::session_revoked(std::string const& session_id) {
  if (session_id.empty()) return;
  close_where([&](Client const& c) { return c.session_id == session_id; }, "session revoked");
}

void Hub::account_disabled(std::string const& account_id) {
  close_where([&](Client const& c) { return c.user_id == account_id; }, "account disabled");
}

void Hub::key_revoked(std::string const& key_hash) {
  if (key_hash.empty()) return;
  close_where([&](Client const& c) { return c.key_hash == key_hash; }, "API key revoked");
}

}  // namespace bookspace::realtime
