#include "http/websocket_session.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <list>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using core::Awaitable;
using Clock = std::chrono::steady_clock;

/// One upgraded connection. Everything but send, close and close_at runs on the connection's
/// own io thread (a single-threaded io_context), so its state needs no lock; those three post
/// to it. Beast allows one read, one write and one close in flight at once, which is how it is
/// used: the handler reads, the writer drains the queue, a close waits for the writer.
class WebSocketSession final : public WebSocket, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream stream, WebSocketOptions const& options, WebSockets::Counters& counters)
      : ws_(std::move(stream)),
        options_(options),
        counters_(counters),
        deadline_(ws_.get_executor()),
        guard_(ws_.get_executor()),
        done_(ws_.get_executor()) {}

  beast::tcp_stream& lowest_layer() { return beast::get_lowest_layer(ws_); }

  Awaitable<bool> accept(boost::beast::http::request<boost::beast::http::string_body> const& upgrade) {
    lowest_layer().expires_never();  // the websocket stream keeps its own timers from here
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = std::chrono::milliseconds(options_.idle_timeout_ms);
    timeouts.keep_alive_pings = true;  // a ping at half the idle timeout; no answer: closed
    ws_.set_option(timeouts);
    ws_.read_message_max(options_.max_message_bytes);
    boost::system::error_code ec;
    co_await ws_.async_accept(upgrade, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      state_ = State::closed;
      co_return false;
    }
    co_return true;
  }

  Awaitable<std::optional<std::string>> read() override {
    if (state_ != State::open) co_return std::nullopt;
    boost::system::error_code ec;
    co_await ws_.async_read(buffer_, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == websocket::error::message_too_big) counters_.too_big.inc();
      broken_ = true;  // closed by the peer, a timeout, our own close, or a protocol error
      co_return std::nullopt;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.clear();
    buffer_.shrink_to_fit();  // clients send little and seldom: an idle connection holds no buffer
    if (!ws_.got_text()) {
      close(1003, "text messages only");
      co_return std::nullopt;
    }
    co_return text;
  }

  bool send(std::shared_ptr<const std::string> text) override {
    if (close_requested_.load(std::memory_order_relaxed)) return false;
    const std::size_t n = text->size();
    // Over the limit with something already waiting (one message alone always goes, however big).
    const std::size_t before = queued_bytes_.fetch_add(n, std::memory_order_relaxed);
    if (before > 0 && before + n > options_.send_queue_bytes) {
      queued_bytes_.fetch_sub(n, std::memory_order_relaxed);
      if (!close_requested_.load(std::memory_order_relaxed)) counters_.slow_consumers.inc();
      close(close_code::try_again, "send queue full: the client reads too slowly");
      return false;
    }
    asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      self->enqueue(std::move(text));
    });
    return true;
  }

  void close(std::uint16_t code, std::string reason) override {
    if (close_requested_.exchange(true)) return;
    asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->begin_close(code, std::move(reason));
    });
  }

  void close_at(Clock::time_point when, std::uint16_t code, std::string reason) override {
    asio::post(
        ws_.get_executor(), [self = shared_from_this(), when, code, reason = std::move(reason)]() mutable {
          if (self->state_ != State::open) return;
          const auto generation = ++self->deadline_generation_;
          self->deadline_.cancel();
          if (when == Clock::time_point{}) return;
          self->deadline_.expires_at(when);
          self->deadline_.async_wait(
              [self, generation, code, reason = std::move(reason)](boost::system::error_code ec) mutable {
                if (ec || generation != self->deadline_generation_) return;
                self->close(code, std::move(reason));
              });
        });
  }

  /// After the handler returned: closes (1000 unless already closing) and waits for the end.
  Awaitable<void> finish() {
    if (state_ == State::open) {
      if (broken_) {
        teardown();
      } else if (!close_requested_.exchange(true)) {
        begin_close(1000, "");
      }
    }
    while (state_ != State::closed) {
      boost::system::error_code ec;
      done_.expires_at(Clock::time_point::max());
      co_await done_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  enum class State { open, closing, closed };

  void enqueue(std::shared_ptr<const std::string> text) {
    if (state_ != State::open) {
      queued_bytes_.fetch_sub(text->size(), std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(text));
    if (writing_) return;
    writing_ = true;
    asio::co_spawn(ws_.get_executor(), write_queue(shared_from_this()), asio::detached);
  }

  Awaitable<void> write_queue(std::shared_ptr<WebSocketSession> self) {
    (void)self;  // keeps the session alive while it writes
    ws_.text(true);
    while (!queue_.empty() && state_ == State::open) {
      auto text = std::move(queue_.front());
      queue_.pop_front();
      boost::system::error_code ec;
      co_await ws_.async_write(asio::buffer(*text), asio::redirect_error(asio::use_awaitable, ec));
      queued_bytes_.fetch_sub(text->size(), std::memory_order_relaxed);
      if (ec) {
        broken_ = true;
        drop_queue();
        break;
      }
      counters_.messages_sent.inc();
    }
    writing_ = false;
    if (state_ == State::closing) co_await close_handshake();
  }

  void drop_queue() {
    for (auto const& text : queue_) queued_bytes_.fetch_sub(text->size(), std::memory_order_relaxed);
    queue_.clear();
  }

  void begin_close(std::uint16_t code, std::string reason) {
    if (state_ != State::open) return;
    state_ = State::closing;
    drop_queue();
    ++deadline_generation_;
    deadline_.cancel();
    close_code_ = code;
    close_reason_ = std::move(reason);
    if (close_reason_.size() > 123) close_reason_.resize(123);  // the close frame's limit
    // A peer that stops reading never lets the close frame out: the socket goes after 5 s.
    guard_.expires_after(std::chrono::seconds(5));
    guard_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->teardown();
    });
    if (broken_) {
      teardown();
    } else if (!writing_) {  // else the writer closes once its write is out
      asio::co_spawn(ws_.get_executor(), close_handshake_of(shared_from_this()), asio::detached);
    }
  }

  static Awaitable<void> close_handshake_of(std::shared_ptr<WebSocketSession> self) {
    co_await self->close_handshake();
  }

  Awaitable<void> close_handshake() {
    boost::system::error_code ec;
    websocket::close_reason reason(close_code_);
    reason.reason = close_reason_;
    co_await ws_.async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
    teardown();
  }

  void teardown() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    close_requested_ = true;
    drop_queue();
    ++deadline_generation_;
    deadline_.cancel();
    guard_.cancel();
    boost::system::error_code ec;
    lowest_layer().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest_layer().socket().close(ec);
    done_.cancel();
  }

  websocket::stream<beast::tcp_stream> ws_;
  WebSocketOptions const& options_;
  WebSockets::Counters& counters_;
  beast::flat_buffer buffer_;
  std::list<std::shared_ptr<const std::string>> queue_;  ///< (a deque allocates even when empty)
  std::atomic<std::size_t> queued_bytes_{0};             ///< posted or queued, not yet written
  std::atomic<bool> close_requested_{false};
  State state_ = State::open;
  bool writing_ = false;
  bool broken_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
  asio::steady_timer deadline_;  ///< close_at
  std::uint64_t deadline_generation_ = 0;
  asio::steady_timer guard_;  ///< the close handshake's time limit
  asio::steady_timer done_;   ///< finish() waits on it
};

WebSockets::WebSockets(core::Metrics& metrics)
    : counters_{metrics.counter("websocket_connections_total", "WebSocket upgrades accepted."),
                metrics.counter("websocket_slow_consumer_closes_total",
                                "WebSockets closed with 1013: their send queue was full."),
                metrics.counter("websocket_messages_sent_total", "WebSocket messages written to clients."),
                metrics.counter("websocket_too_big_closes_total",
                                "WebSockets closed with 1009: a client message over the size limit.")} {
  metrics.collector(
      "websocket_open_connections", "Open WebSocket connections.", "gauge", [this](std::string& out) {
        core::append_sample(out, "websocket_open_connections", "", static_cast<double>(open_.count()));
      });
}

void WebSockets::start(beast::tcp_stream&& stream,
                       boost::beast::http::request<boost::beast::http::string_body> upgrade, Request req,
                       WebSocketOptions const& options, ConnectionTable& table, ConnectionTable::Slot slot,
                       core::Logger& log) {
  auto session = std::make_shared<WebSocketSession>(std::move(stream), options, counters_);
  auto executor = session->lowest_layer().get_executor();
  req.headers = {};
  asio::co_spawn(executor,
                 run(std::move(session), std::move(upgrade), std::move(req), options, table, std::move(slot)),
                 [&log](std::exception_ptr const& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (std::exception const& ex) {
                     log.error("websocket failed", {{"error", ex.what()}});
                   }
                 });
}

Awaitable<void> WebSockets::run(std::shared_ptr<WebSocketSession> session,
                                boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                Request req, WebSocketOptions const& options, ConnectionTable& table,
                                ConnectionTable::Slot slot) {
  (void)slot;  // counts the connection against the caps until it ends
  Connection conn{session->lowest_layer().get_executor(), &session->lowest_layer()};
  conn.idle = false;  // never evicted as an idle keep-alive
  ConnectionTable::Registration registration(table, conn);
  Activity::Scope count(open_);
  std::list<std::weak_ptr<WebSocketSession>>::iterator entry;
  {
    std::lock_guard lock(mutex_);
    entry = sessions_.insert(sessions_.end(), session);
  }
  if (co_await session->accept(upgrade)) {
    counters_.opened.inc();
    upgrade = {};  // its headers are not needed any more
    std::exception_ptr failure;
    try {
      co_await options.handler(req, session);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) session->close(1011, "internal error");
  }
  co_await session->finish();
  std::lock_guard lock(mutex_);
  sessions_.erase(entry);
}

void WebSockets::close_all() {
  std::lock_guard lock(mutex_);
  for (auto const& weak : sessions_) {
    if (auto session = weak.lock()) session->close(close_code::going_away, "server shutting down");
  }
}

bool is_websocket_upgrade(boost::beast::http::request<boost::beast::http::string_body> const& req) {
  return websocket::is_upgrade(req);
}

}  // namespace bookspace::http
