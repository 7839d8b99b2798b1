// Test-only modules that prove the kernel holds nothing domain-specific: `probe` owns a
// notes table and publishes events; `probe_sink` consumes them durably into its own table.

#include <bookspace/migrations/probe.hpp>
#include <bookspace/migrations/probe_sink.hpp>
#include "core/clock.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/sql.hpp"
#include "http/router.hpp"
#include "test_support.hpp"

#include <soci/soci.h>
#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <limits>
#include <thread>

namespace bookspace::testing {

namespace json = boost::json;
using http::Method;
using http::Request;
using http::Response;

namespace {

class ProbeModule final : public app::Module {
 public:
  explicit ProbeModule(app::ModuleContext& ctx) : ctx_(ctx) {}

  void register_routes(http::Router& r) override {
    http::RouteOptions open;
    open.auth = http::Auth::none;

    http::RouteOptions idempotent = open;
    idempotent.idempotent = true;

    // Creates a note and publishes probe.note_created.v1 in one transaction.
    // ?fail=1 throws after publishing (rollback); ?crash=1 kills the process right after COMMIT,
    // before consumers are woken.
    r.add(
        Method::post, "/api/v1/probe/notes",
        [this](Request& req) -> core::Awaitable<Response> {
          auto body = http::parse_json_object(req);
          auto const* text = body.if_contains("text");
          if (!text || !text->is_string()) {
            throw core::ApiError(core::Error::validation("text", "required string"));
          }
          const bool fail = req.query_param("fail") == "1";
          const bool crash = req.query_param("crash") == "1";
          if (auto ms = req.query_param("ms")) {  // a slow handler (Idempotency-Key 409 tests)
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
            timer.expires_after(std::chrono::milliseconds(std::stoi(std::string(*ms))));
            co_await timer.async_wait(boost::asio::use_awaitable);
          }
          std::string id = ctx_.ids.uuid_v7();
          std::string note(text->as_string());
          long long now = ctx_.clock.now_ms();
          co_await ctx_.db.transaction([&](core::Tx& tx) {
            tx.sql << "INSERT INTO probe_notes (id, text, created_at) VALUES (:id, :text, :now)",
                soci::use(id), soci::use(note), soci::use(now);
            if (crash) tx.on_commit([] { std::raise(SIGKILL); });
            ctx_.events.publish(tx, "probe.note_created.v1", id, {{"id", id}, {"text", note}});
            if (fail) throw core::ApiError(core::ErrorCode::conflict, "asked to fail after publishing");
          });
          Response res = Response::json(201, {{"id", id}, {"text", note}});
          res.headers.add("Location", "/api/v1/probe/notes/" + id);
          co_return res;
        },
        idempotent);

    // One database read through the pool (the benchmark's DB route).
    r.add(
        Method::get, "/api/v1/probe/notes/{id}",
        [this](Request& req) -> core::Awaitable<Response> {
          std::string id(req.param("id"));
          auto found = co_await ctx_.db.run([&](soci::session& sql) -> std::optional<json::object> {
            std::string text;
            long long created = 0;
            soci::indicator ind;
            sql << "SELECT text, created_at FROM probe_notes WHERE id = :id", soci::use(id),
                soci::into(text, ind), soci::into(created);
            if (!sql.got_data()) return std::nullopt;
            return json::object{{"id", id}, {"text", text}, {"created_at", core::format_rfc3339(created)}};
          });
          if (!found) throw core::ApiError(core::ErrorCode::not_found, "No such note.");
          co_return Response::json(200, *found);
        },
        open);

    // Answers after ?ms= milliseconds without blocking an io thread (shutdown drain tests).
    r.add(
        Method::get, "/api/v1/probe/slow",
        [](Request& req) -> core::Awaitable<Response> {
          int ms = std::stoi(req.query_param("ms").value_or("100"));
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
          timer.expires_after(std::chrono::milliseconds(ms));
          co_await timer.async_wait(boost::asio::use_awaitable);
          co_return Response::json(200, {{"slept_ms", ms}});
        },
        open);

    // Holds a CPU-pool worker for ?ms= (overload shedding tests).
    r.add(
        Method::post, "/api/v1/probe/cpu",
        [this](Request& req) -> core::Awaitable<Response> {
          int ms = std::stoi(req.query_param("ms").value_or("50"));
          co_await core::run_in(
              ctx_.cpu, [ms](std::size_t) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); });
          co_return Response::json(200, {{"ok", true}});
        },
        open);

    // Parses a JSON body; a small body limit (1 KiB) for the limit tests.
    http::RouteOptions small = open;
    small.body_limit = 1024;
    r.add(
        Method::post, "/api/v1/probe/echo",
        [](Request& req) -> core::Awaitable<Response> {
          co_return Response::json(200, http::parse_json_object(req));
        },
        small);

    // Requires a principal: with no authenticator installed, always 401.
    r.add(Method::get, "/api/v1/probe/private", [](Request&) -> core::Awaitable<Response> {
      co_return Response::json(200, {{"ok", true}});
    });

    http::RouteOptions limited = open;
    limited.rate_limit = http::RateLimitPolicy{"probe_limited", 60, 3};
    r.add(
        Method::get, "/api/v1/probe/limited",
        [](Request&) -> core::Awaitable<Response> {
          co_return Response::json(200, {{"ok", true}});
        },
        limited);

    // A streamed body (RouteOptions::stream_body), limit 1 MiB: answers its length, SHA-256,
    // how many chunks it came in and the largest; ?stop_after=N answers once N bytes arrived.
    http::RouteOptions streamed = open;
    streamed.json_body = false;
    streamed.stream_body = true;
    streamed.body_limit = 1024 * 1024;
    r.add(
        Method::post, "/api/v1/probe/stream",
        [](Request& req) -> core::Awaitable<Response> {
          const auto stop = req.query_param("stop_after");
          const std::size_t stop_after = stop ? std::stoul(*stop) : std::numeric_limits<std::size_t>::max();
          crypto_hash_sha256_state sha;
          crypto_hash_sha256_init(&sha);
          std::size_t bytes = 0, chunks = 0, largest = 0;
          for (;;) {
            auto chunk = co_await req.body_stream->next();
            if (chunk.empty()) break;
            crypto_hash_sha256_update(&sha, reinterpret_cast<unsigned char const*>(chunk.data()),
                                      chunk.size());
            bytes += chunk.size();
            ++chunks;
            largest = std::max(largest, chunk.size());
            if (bytes >= stop_after) break;
          }
          unsigned char digest[crypto_hash_sha256_BYTES];
          crypto_hash_sha256_final(&sha, digest);
          char hex[2 * crypto_hash_sha256_BYTES + 1];
          sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
          const auto declared = req.body_stream->declared_length();
          co_return Response::json(200,
                                   {{"bytes", bytes},
                                    {"chunks", chunks},
                                    {"largest_chunk", largest},
                                    {"sha256", hex},
                                    {"declared", declared ? json::value(*declared) : json::value(nullptr)}});
        },
        streamed);

    // A file sent from disk (Response::file, sendfile): ?path=&offset=&length=.
    r.add(
        Method::get, "/api/v1/probe/file",
        [](Request& req) -> core::Awaitable<Response> {
          const std::string path = req.query_param("path").value_or("");
          const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd < 0) co_return Response::text(404, "no such file");
          struct stat st {};
          ::fstat(fd, &st);
          const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
          const std::uint64_t offset = std::stoull(req.query_param("offset").value_or("0"));
          const std::uint64_t length =
              std::stoull(req.query_param("length").value_or(std::to_string(size - offset)));
          Response res{200, {}, {}};
          res.headers.add("Content-Type", "application/octet-stream");
          res.file = std::make_shared<http::FileBody>(fd, offset, length);
          co_return res;
        },
        open);

    r.add(
        Method::get, "/api/v1/probe/boom",
        [](Request&) -> core::Awaitable<Response> {
          throw std::runtime_error("SELECT secret FROM internals");
          co_return Response::no_content();
        },
        open);
  }

 private:
  app::ModuleContext& ctx_;
};

class ProbeSinkModule final : public app::Module {
 public:
  explicit ProbeSinkModule(app::ModuleContext& ctx) : ctx_(ctx) {}

  void subscribe(core::EventLog& events) override {
    // Idempotent by event id. Notes whose text starts with "flaky" fail twice before succeeding.
    events.subscribe("probe_sink.notes", {"probe.note_created.v1"},
                     [this](core::Tx& tx, core::Event const& e) {
                       if (e.type != "probe.note_created.v1") return;
                       std::string text(e.payload.as_object().at("text").as_string());
                       if (text.starts_with("flaky") && flaky_failures_.fetch_add(1) < 2) {
                         throw std::runtime_error("flaky handler failure");
                       }
                       long long seq = e.seq;
                       tx.sql << "INSERT INTO probe_sink_seen (event_id, note_id, seq) VALUES (:e, :n, :s)"
                                 " ON CONFLICT (event_id) DO NOTHING",
                           soci::use(e.id), soci::use(e.aggregate_id), soci::use(seq);
                     });
  }

  void register_routes(http::Router& r) override {
    http::RouteOptions open;
    open.auth = http::Auth::none;
    r.add(
        Method::get, "/api/v1/probe/seen",
        [this](Request&) -> core::Awaitable<Response> {
          auto ids = co_await ctx_.db.run([](soci::session& sql) {
            json::array out;
            soci::rowset<soci::row> rows =
                (sql.prepare << "SELECT note_id FROM probe_sink_seen ORDER BY seq");
            for (auto const& row : rows) out.emplace_back(core::sql::get_text(row, 0));
            return out;
          });
          co_return Response::json(200, {{"items", ids}});
        },
        open);
  }

 private:
  app::ModuleContext& ctx_;
  std::atomic<int> flaky_failures_{0};
};

}  // namespace

app::ModuleDescriptor probe_module() {
  return {.name = "probe",
          .summary = "test-only: notes that publish events",
          .migrations = &migrations::probe,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<ProbeModule>(ctx);
          }};
}

app::ModuleDescriptor probe_sink_module() {
  return {.name = "probe_sink",
          .summary = "test-only: a durable consumer of probe's events",
          .migrations = &migrations::probe_sink,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<ProbeSinkModule>(ctx);
          }};
}

}  // namespace bookspace::testing
