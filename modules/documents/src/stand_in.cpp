#include "stand_in.hpp"

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "http/peer.hpp"
#include "wire.hpp"

#include <bookspace/documents/documents.hpp>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <chrono>

namespace bookspace::documents {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// Calls the documents process. Its failures are the caller's 503: the answer is unknown, so
/// neither "no access" nor "no document" may be assumed.
class RemoteDocuments final : public Access, public Catalog {
 public:
  RemoteDocuments(std::string base_url, std::string service_key, core::Metrics& metrics)
      : base_(std::move(base_url)),
        peer_({.name = "documents", .service_key = std::move(service_key), .timeout = 5s}, metrics) {}

  core::Awaitable<Role> role(std::string document_id, std::string user_id) override {
    const std::vector<std::string> path{"documents", document_id, "role"};
    const Params params{{"user_id", user_id}};
    auto body = co_await get(path, params);
    co_return body ? role_from_string(body->at("role").as_string()) : Role::none;
  }

  core::Awaitable<std::vector<std::string>> readers(std::string document_id) override {
    const std::vector<std::string> path{"documents", document_id, "readers"};
    const Params none;
    auto body = co_await get(path, none);
    co_return body ? wire::texts_of(body->at("readers")) : std::vector<std::string>{};
  }

  std::vector<std::string> readable_ids(std::string const& user_id, std::string const& after_id,
                                        int n) override {
    return ids(user_id, after_id, n);
  }
  std::optional<Snapshot> read(std::string const& id, std::string const& user_id) override {
    return snapshot_of(get_blocking({"documents", id, "snapshot"}, {{"user_id", user_id}}));
  }
  std::vector<std::string> live_ids(std::string const& after_id, int n) override {
    return ids(std::nullopt, after_id, n);
  }
  std::optional<Snapshot> snapshot(std::string const& id) override {
    return snapshot_of(get_blocking({"documents", id, "snapshot"}, {}));
  }

 private:
  using Params = std::vector<std::pair<std::string, std::string>>;

  std::string url_of(std::vector<std::string> const& segments, Params const& params) const {
    boost::urls::url url = boost::urls::parse_uri(base_).value();
    url.set_path("/internal");
    for (auto const& s : segments) url.segments().push_back(s);
    for (auto const& [k, v] : params) url.params().append({k, v});
    return std::string(url.buffer());
  }

  static core::ApiError unreachable(std::string const& why) {
    return core::ApiError(core::ErrorCode::overloaded,
                          "The documents service cannot be reached (" + why + "); try again.");
  }

  /// The JSON object of a 200, nullopt for a 404; anything else throws.
  static std::optional<json::object> answer(http::ClientResponse const& r) {
    if (r.status == 404) return std::nullopt;
    if (r.status != 200) throw unreachable("status " + std::to_string(r.status));
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) throw unreachable("a malformed answer");
    return std::move(v.as_object());
  }

  core::Awaitable<std::optional<json::object>> get(std::vector<std::string> const& segments,
                                                   Params const& params) const {
    std::optional<http::ClientResponse> r;
    std::string failure;
    try {
      std::string method = "GET", url = url_of(segments, params);
      r = co_await peer_.call(method, url);
    } catch (http::ClientError const& e) {
      failure = e.what();
    }
    if (!r) throw unreachable(failure);
    co_return answer(*r);
  }

  std::optional<json::object> get_blocking(std::vector<std::string> const& segments,
                                           Params const& params) const {
    try {
      return answer(peer_.call_blocking("GET", url_of(segments, params)));
    } catch (http::ClientError const& e) {
      throw unreachable(e.what());
    }
  }

  /// Pages of at most wire::max_ids until `n` are read or the documents process has no more.
  std::vector<std::string> ids(std::optional<std::string> const& user, std::string after, int n) const {
    std::vector<std::string> out;
    while (static_cast<int>(out.size()) < n) {
      const int want = std::min(wire::max_ids, n - static_cast<int>(out.size()));
      Params params{{"after", after}, {"limit", std::to_string(want)}};
      if (user) params.emplace_back("user_id", *user);
      auto body = get_blocking({"documents", "ids"}, params);
      auto page = body ? wire::texts_of(body->at("ids")) : std::vector<std::string>{};
      out.insert(out.end(), page.begin(), page.end());
      if (static_cast<int>(page.size()) < want) break;
      after = page.back();
    }
    return out;
  }

  static std::optional<Snapshot> snapshot_of(std::optional<json::object> const& body) {
    if (!body) return std::nullopt;
    Snapshot s;
    detail::snapshot_from(*body, s);
    return s;
  }

  std::string base_;
  mutable http::Peer peer_;  ///< retries, and fails fast while the documents process is down
};

class DocumentsStandIn final : public app::Module {
 public:
  explicit DocumentsStandIn(app::ModuleContext& ctx)
      : remote_(ctx.config.str("documents.remote_url"), ctx.config.str("cluster.service_key"), ctx.metrics) {
    if (ctx.config.str("cluster.service_key").empty()) {
      throw app::ModuleError("documents.remote_url needs cluster.service_key, shared with that process");
    }
    ctx.services.provide<Access>(remote_);
    ctx.services.provide<Catalog>(remote_);
  }

 private:
  RemoteDocuments remote_;
};

}  // namespace

std::unique_ptr<app::Module> documents_stand_in(app::ModuleContext& ctx) {
  return std::make_unique<DocumentsStandIn>(ctx);
}

}  // namespace bookspace::documents
