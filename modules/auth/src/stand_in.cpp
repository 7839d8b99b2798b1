#include "stand_in.hpp"

#include "settings.hpp"
#include "token_authenticator.hpp"

#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/scheduler.hpp"
#include "http/client.hpp"
#include "http/peer.hpp"

#include <bookspace/auth/events.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

namespace bookspace::auth {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// "http://a:8080/.well-known/jwks.json" → "http://a:8080".
std::string origin_of(std::string const& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {};
  std::string origin = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host());
  if (parsed->has_port()) origin += ":" + std::string(parsed->port());
  return origin;
}

/// What the auth process says of a key: POST /internal/auth/api-keys/verify.
TokenAuthenticator::KeyLookup remote_key_lookup(std::string url, std::shared_ptr<http::Peer> peer,
                                                bool configured) {
  return [url = std::move(url), peer = std::move(peer), configured](
             std::string key, core::TimeMs) -> core::Awaitable<std::optional<KeyOwner>> {
    if (!configured) co_return std::nullopt;  // no service key, no way to ask: API keys are refused
    http::ClientResponse response;
    bool reached = true;
    try {
      std::string method = "POST", body = json::serialize(json::object{{"key", key}});
      response = co_await peer->call(method, url, body);
    } catch (http::ClientError const&) {  // unreachable, or its circuit open
      reached = false;
    }
    if (!reached || response.status >= 500) {
      throw core::ApiError(core::ErrorCode::overloaded, "The auth service cannot be reached; try again.");
    }
    if (response.status != 200) co_return std::nullopt;
    boost::system::error_code ec;
    auto body = json::parse(response.body, ec);
    if (ec || !body.is_object()) co_return std::nullopt;
    auto const& o = body.get_object();
    KeyOwner owner{core::payload::text(o, "account_id"), core::payload::text(o, "role"), std::nullopt};
    if (auto const* at = o.if_contains("expires_at"); at && at->is_int64())
      owner.expires_at = at->get_int64();
    co_return owner;
  };
}

/// Fetches the JWKS when a token names a kid it does not know (key rotation), then verifies.
class JwksAuthenticator final : public http::Authenticator {
 public:
  JwksAuthenticator(TokenAuthenticator& tokens, std::string jwks_url, core::Clock const& clock,
                    core::Logger& log)
      : tokens_(tokens), jwks_url_(std::move(jwks_url)), clock_(clock), log_(log) {}

  core::Awaitable<std::optional<http::Principal>> authenticate(std::string_view credential,
                                                               http::RequestContext const& ctx) override {
    const std::string token(credential);
    if (!token.starts_with("bsk_")) {
      if (auto kid = token_kid(token); kid && !tokens_.knows(*kid)) co_await refresh();
    }
    co_return co_await tokens_.authenticate(token, ctx);
  }

  /// One fetch at a time, at most one a second; a request arriving meanwhile waits for it.
  core::Awaitable<void> refresh() {
    if (fetching_.exchange(true)) {
      for (int i = 0; i < 400 && fetching_.load(); ++i) co_await core::sleep_for(5ms);
      co_return;
    }
    const auto now = clock_.now_ms();
    if (now - last_fetch_ < 1000) {
      fetching_ = false;
      co_return;
    }
    last_fetch_ = now;
    http::ClientRequest request;
    request.url = jwks_url_;
    request.timeout = 2s;
    std::optional<http::ClientResponse> response;
    try {
      response = co_await http::fetch(std::move(request));
    } catch (std::exception const& e) {  // whatever it is, `fetching_` must be reset below
      log_.warn("auth stand-in: JWKS not fetched", {{"url", jwks_url_}, {"error", e.what()}});
    }
    apply(response);
    fetching_ = false;
  }

  /// At start, from the main thread (it may block).
  void fetch_now() {
    last_fetch_ = clock_.now_ms();
    http::ClientRequest request;
    request.url = jwks_url_;
    request.timeout = 2s;
    std::optional<http::ClientResponse> response;
    try {
      response = http::fetch_blocking(std::move(request));
    } catch (http::ClientError const& e) {
      log_.warn("auth stand-in: JWKS not fetched; tried again on the first token",
                {{"url", jwks_url_}, {"error", e.what()}});
    }
    apply(response);
  }

 private:
  void apply(std::optional<http::ClientResponse> const& response) {
    if (!response) return;
    boost::system::error_code ec;
    auto doc = json::parse(response->body, ec);
    auto ring = std::make_shared<KeyRing>(KeyRing::from_jwks(ec ? json::value() : doc));
    if (response->status != 200 || ring->empty()) {
      log_.warn("auth stand-in: no keys in the JWKS", {{"url", jwks_url_}, {"status", response->status}});
      return;
    }
    tokens_.set_ring(std::move(ring));
  }

  TokenAuthenticator& tokens_;
  std::string jwks_url_;
  core::Clock const& clock_;
  core::Logger& log_;
  std::atomic<bool> fetching_{false};
  std::atomic<core::TimeMs> last_fetch_{0};
};

/// This process in the auth process's list of live instances, so that a logout there answers
/// once this process refuses the session too (propagation.hpp), through auth's internal routes.
/// Runs on the scheduler's thread, which may block.
class RemoteInstance {
 public:
  RemoteInstance(app::ModuleContext& ctx, std::string origin, std::shared_ptr<http::Peer> peer)
      : ctx_(ctx),
        base_(std::move(origin) + "/internal/auth/instances/" + ctx.ids.uuid_v7()),
        service_key_(ctx.config.str("cluster.service_key")),
        peer_(std::move(peer)) {}

  void start() {
    if (service_key_.empty()) return;
    send("PUT", base_, "{}");
    task_ = ctx_.scheduler.every({"auth.instance_heartbeat", std::chrono::seconds(5), 0.1, false,
                                  [this](soci::session&) { send("PUT", base_, "{}"); }});
  }
  void stop() {
    if (!task_) return;
    ctx_.scheduler.cancel(task_);
    task_ = 0;
    send("DELETE", base_, "");
  }
  /// The token cache refuses `session_id` now.
  void applied(std::string session_id) {
    if (service_key_.empty()) return;
    std::lock_guard lock(mutex_);
    pending_.emplace_back(std::move(session_id));
    if (scheduled_) return;
    scheduled_ = true;
    ctx_.scheduler.after("auth.revocation_ack", std::chrono::milliseconds(0), [this](soci::session&) {
      json::array sessions;
      {
        std::lock_guard lock(mutex_);
        for (auto& s : pending_) sessions.emplace_back(std::move(s));
        pending_.clear();
        scheduled_ = false;
      }
      send("POST", base_ + "/acks", json::serialize(json::object{{"sessions", std::move(sessions)}}));
    });
  }

 private:
  void send(std::string const& method, std::string const& url, std::string const& body) {
    try {
      auto r = peer_->call_blocking(method, url, body);
      if (r.status != 204) ctx_.log.warn("auth stand-in: the auth process refused", {{"status", r.status}});
    } catch (http::ClientError const& e) {
      // A logout there then waits its bounded time for this process (propagation.hpp).
      ctx_.log.warn("auth stand-in: the auth process cannot be reached", {{"error", e.what()}});
    }
  }

  app::ModuleContext& ctx_;
  const std::string base_, service_key_;
  std::shared_ptr<http::Peer> peer_;
  core::Scheduler::Id task_ = 0;
  std::mutex mutex_;
  std::vector<std::string> pending_;
  bool scheduled_ = false;
};

class AuthStandIn final : public app::Module {
 public:
  explicit AuthStandIn(app::ModuleContext& ctx)
      : ctx_(ctx),
        settings_(settings_from(ctx.config)),
        peer_(std::make_shared<http::Peer>(
            http::PeerOptions{
                .name = "auth", .service_key = ctx.config.str("cluster.service_key"), .timeout = 3s},
            ctx.metrics)),
        tokens_(
            std::make_shared<KeyRing const>(),
            remote_key_lookup(origin_of(ctx.config.str("auth.jwks_url")) + "/internal/auth/api-keys/verify",
                              peer_, !ctx.config.str("cluster.service_key").empty()),
            settings_.tokens, ctx.clock),
        jwks_(tokens_, ctx.config.str("auth.jwks_url"), ctx.clock, ctx.log),
        instance_(ctx, origin_of(ctx.config.str("auth.jwks_url")), peer_) {
    ctx.services.provide<http::Authenticator>(jwks_);
  }

  void subscribe(core::EventLog& events) override {
    // Sessions revoked up to one token lifetime before this process started can still have
    // unexpired tokens: the watch replays them, then follows every instance's revocations.
    const auto& t = settings_.tokens;
    const core::TimeMs since = ctx_.clock.now_ms() - (t.lifetime_s + t.leeway_s) * 1000LL;
    watch_revocations(
        events, tokens_, [this](std::string const& session_id) { instance_.applied(session_id); }, since);
  }

  void start() override {
    jwks_.fetch_now();
    instance_.start();
  }
  void stop() override { instance_.stop(); }

 private:
  app::ModuleContext& ctx_;
  const AuthSettings settings_;
  std::shared_ptr<http::Peer> peer_;  ///< the auth process's internal routes (API keys, heartbeats)
  TokenAuthenticator tokens_;
  JwksAuthenticator jwks_;
  RemoteInstance instance_;
};

}  // namespace

std::unique_ptr<app::Module> auth_stand_in(app::ModuleContext& ctx) {
  return std::make_unique<AuthStandIn>(ctx);
}

}  // namespace bookspace::auth
