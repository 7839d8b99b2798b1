#include "connection.hpp"
#include "hub.hpp"

#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/metrics.hpp"
#include "http/authenticator.hpp"
#include "http/openapi.hpp"
#include "http/router.hpp"

#include <bookspace/auth/events.hpp>
#include <bookspace/documents/documents.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/jobs/events.hpp>
#include <bookspace/realtime/realtime.hpp>

namespace bookspace::realtime {

namespace {

namespace oa = http::openapi;

/// A GET without the upgrade.
core::Awaitable<http::Response> not_upgraded(http::Request&) {
  throw core::ApiError(core::ErrorCode::validation_failed,
                       "This endpoint speaks WebSocket: send GET with Upgrade: websocket.");
  co_return http::Response{};
}

/// realtime.*, read and checked once (declare_config says what each means).
struct RealtimeSettings {
  std::size_t max_subscriptions = 0;
  std::chrono::milliseconds auth_timeout{0};
  int messages_per_second = 0;
  std::size_t max_message_bytes = 0, send_queue_bytes = 0, max_connections = 0;
  int idle_timeout_ms = 0;
};

RealtimeSettings settings_from(app::Config const& c) {
  return {.max_subscriptions = static_cast<std::size_t>(c.integer("realtime.max_subscriptions")),
          .auth_timeout = std::chrono::milliseconds(c.integer("realtime.auth_timeout_ms")),
          .messages_per_second = static_cast<int>(c.integer("realtime.messages_per_second")),
          .max_message_bytes = static_cast<std::size_t>(c.integer("realtime.max_message_bytes")),
          .send_queue_bytes = static_cast<std::size_t>(c.integer("realtime.send_queue_bytes")),
          .max_connections = static_cast<std::size_t>(c.integer("realtime.max_connections")),
          .idle_timeout_ms = static_cast<int>(c.integer("realtime.idle_timeout_s") * 1000)};
}

class RealtimeModule final : public app::Module {
 public:
  explicit RealtimeModule(app::ModuleContext& ctx)
      : settings_(settings_from(ctx.config)),
        hub_(ctx.metrics, settings_.max_subscriptions),
        deps_{
            hub_,
            ctx.services.find<http::Authenticator>(),
            ctx.services.find<documents::Access>(),
            ctx.clock,
            settings_.auth_timeout,
            ctx.metrics.counter("realtime_auth_failures_total",
                                "Realtime connections closed with 4401 for a missing, bad or foreign token."),
            settings_.messages_per_second} {
    socket_.handler = [this](http::Request& req, std::shared_ptr<http::WebSocket> socket) {
      return serve(deps_, req, std::move(socket));
    };
    socket_.max_message_bytes = settings_.max_message_bytes;
    socket_.send_queue_bytes = settings_.send_queue_bytes;
    socket_.idle_timeout_ms = settings_.idle_timeout_ms;
    socket_.max_connections = settings_.max_connections;
  }

  void register_routes(http::Router& r) override {
    http::RouteOptions options;
    options.auth = http::Auth::none;  // the first message authenticates
    options.websocket = socket_;
    r.add(http::Method::get, "/api/v1/realtime", not_upgraded,
          oa::documented(
              oa::operation("Live updates over WebSocket (docs/modules/realtime.md): auth, then subscribe to "
                            "document:<id> or jobs",
                            {{"101", oa::empty_response("Switching to the WebSocket protocol.")},
                             {"400", oa::empty_response("Not a WebSocket upgrade.")},
                             {"503", oa::empty_response("At the connection limit.")}}),
              std::move(options)));
  }

  void subscribe(core::EventLog& events) override {
    events.watch(
        "realtime.fanout",
        core::types_of<documents::Created, documents::Updated, documents::Restored, documents::Deleted,
                       documents::Purged, documents::Shared, documents::Unshared, documents::CommentAdded,
                       jobs::Succeeded, jobs::Failed, jobs::Cancelled, auth::SessionRevoked,
                       auth::AccountUpdated, auth::ApiKeyRevoked>(),
        [this](core::Event const& e) { hub_.on_event(e); }, [this] { return hub_.idle(); });
  }

 private:
  const RealtimeSettings settings_;
  Hub hub_;
  ConnectionDeps deps_;
  http::WebSocketOptions socket_;
};

void declare_config(app::ConfigSchema& s) {
  s.add(app::integer_key("realtime.auth_timeout_ms", 5000, 100, 60'000,
                         "A new connection must send its auth message within this time (else closed 4401)."));
  s.add(app::integer_key("realtime.max_connections", 10'000, 1, 1'000'000,
                         "Open realtime connections per process; beyond it an upgrade gets 503."));
  s.add(app::integer_key("realtime.max_subscriptions", 100, 1, 100'000, "Subscriptions per connection."));
  s.add(app::integer_key("realtime.max_message_bytes", 16'384, 256, 1 << 20,
                         "Largest client message; a bigger one closes the connection (1009)."));
  s.add(app::integer_key("realtime.send_queue_bytes", 1 << 20, 4096, 1 << 30,
                         "Bytes queued to one client; a client that falls further behind is closed (1013)."));
  s.add(app::integer_key("realtime.messages_per_second", 20, 1, 100'000,
                         "Messages one client may send per second (twice that in a burst); beyond, each is "
                         "answered rate_limited and not handled."));
  s.add(app::integer_key("realtime.idle_timeout_s", 60, 2, 3600,
                         "A connection silent this long is closed; the server pings it at half."));
}

}  // namespace

app::ModuleDescriptor realtime_module() {
  return {.name = "realtime",
          .summary =
              "live updates over WebSocket: documents and own jobs, permission-filtered, from every instance",
          .uses = {"auth", "documents"},
          .declare_config = &declare_config,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<RealtimeModule>(ctx);
          }};
}

}  // namespace bookspace::realtime
