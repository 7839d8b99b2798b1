#pragma once

// A blocking WebSocket client for tests (Beast, over loopback), with time limits on every wait.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace bookspace::testing {

class WsClient {
 public:
  /// Connects to 127.0.0.1:port and upgrades `target`. `receive_buffer` > 0 sets SO_RCVBUF
  /// before connecting (a client that reads slowly). Throws when the upgrade is refused.
  explicit WsClient(std::uint16_t port, std::string const& target = "/api/v1/realtime",
                    int receive_buffer = 0);
  ~WsClient();
  WsClient(WsClient const&) = delete;

  void send(std::string const& text);
  void send(boost::json::value const& message);
  /// {"type":"auth","token":token}, then the answer (nullopt if none came; events before it
  /// are skipped).
  std::optional<boost::json::value> auth(std::string const& token);
  /// {"type":"subscribe","topic":topic}, then the answer (events before it are skipped).
  std::optional<boost::json::value> subscribe(std::string const& topic);

  /// The next message within `timeout`; nullopt when none came or the connection closed.
  std::optional<boost::json::value> next(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// The next message whose "type" is `type` (others are skipped), within `timeout`.
  std::optional<boost::json::value> next_of(
      std::string const& type, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Reads (dropping messages) until the server closes, within `timeout`; the close code, or
  /// nullopt when still open.
  std::optional<int> wait_closed(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// The close code once closed (1006 when the connection dropped without a close frame).
  std::optional<int> close_code() const;
  std::string close_reason() const;

 private:
  std::optional<boost::json::value> answer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bookspace::testing
