#include "core/mailer.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace bookspace;
namespace fs = std::filesystem;

namespace {

/// A minimal SMTP server on 127.0.0.1 for one session: it answers EHLO, MAIL, RCPT, DATA and
/// QUIT with success and records what the client sent (commands and the message).
class SmtpSink {
 public:
  SmtpSink() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~SmtpSink() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  /// Waits (bounded) for the session to end, then returns the transcript of the client's side.
  std::string transcript() {
    thread_.join();
    thread_ = std::thread([] {});
    return transcript_;
  }

 private:
  void serve() {
    timeval tv{10, 0};
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto say = [&](std::string_view s) { (void)!::write(c, s.data(), s.size()); };
    say("220 sink ESMTP\r\n");
    std::string buffer;
    bool in_data = false;
    char chunk[4096];
    for (;;) {
      auto n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      transcript_.append(chunk, static_cast<std::size_t>(n));
      for (;;) {
        if (in_data) {
          auto end = buffer.find("\r\n.\r\n");
          if (end == std::string::npos) break;
          buffer.erase(0, end + 5);
          in_data = false;
          say("250 queued\r\n");
          continue;
        }
        auto eol = buffer.find("\r\n");
        if (eol == std::string::npos) break;
        std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        if (line.starts_with("EHLO")) {
          say("250-sink\r\n250 8BITMIME\r\n");
        } else if (line.starts_with("DATA")) {
          in_data = true;
          say("354 go ahead\r\n");
        } else if (line.starts_with("QUIT")) {
          say("221 bye\r\n");
          ::close(c);
          return;
        } else {
          say("250 ok\r\n");
        }
      }
    }
    ::close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string transcript_;
};

std::string read_file(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("without SMTP, mail is spooled as an .eml file and logged") {
  testing::ScratchDir dir;
  testing::CapturedLog log;
  core::Metrics metrics;
  core::MailerOptions o;
  o.spool_dir = dir.path() + "/mail";
  o.from = "Books <books@example.com>";
  core::Mailer mailer(o, log.logger(), metrics);
  CHECK(mailer.send(
      {"ann@example.com\r\nBcc: evil@example.com", "Grüße\nX-Injected: 1", "line one\nline two"}));
  mailer.flush();
  std::vector<fs::path> files;
  for (auto const& e : fs::directory_iterator(o.spool_dir)) files.push_back(e.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].extension() == ".eml");
  CHECK((fs::status(files[0]).permissions() & fs::perms::others_read) == fs::perms::none);
  std::string eml = read_file(files[0]);
  CHECK(eml.find("From: Books <books@example.com>\r\n") != std::string::npos);
  CHECK(eml.find("To: ann@example.comBcc: evil@example.com\r\n") != std::string::npos);  // no new header
  CHECK(eml.find("\r\nBcc:") == std::string::npos);
  CHECK(eml.find("\r\nX-Injected") == std::string::npos);
  CHECK(eml.find("Subject: =?UTF-8?B?") != std::string::npos);  // non-ASCII encoded
  CHECK(eml.find("\r\n\r\nline one\r\nline two\r\n") != std::string::npos);
  CHECK(eml.find("Message-ID: <") != std::string::npos);
  CHECK(log.contains("mail spooled"));
  CHECK(metrics.counter("mail_delivered_total", "").value() == 1);
}

TEST_CASE("with SMTP, mail goes to the server through libcurl") {
  SmtpSink sink;
  testing::CapturedLog log;
  core::Metrics metrics;
  core::MailerOptions o;
  o.smtp_url = "smtp://127.0.0.1:" + std::to_string(sink.port());
  o.from = "Books <books@example.com>";
  o.timeout_ms = 10000;
  core::Mailer mailer(o, log.logger(), metrics);
  mailer.send({"ann@example.com", "Reset", "Hello Ann\n.\nthe dot above is stuffed\n"});
  mailer.flush();
  std::string t = sink.transcript();
  CHECK(t.find("MAIL FROM:<books@example.com>") != std::string::npos);
  CHECK(t.find("RCPT TO:<ann@example.com>") != std::string::npos);
  CHECK(t.find("Subject: Reset\r\n") != std::string::npos);
  CHECK(t.find("\r\n..\r\nthe dot above") != std::string::npos);  // dot-stuffing
  CHECK(metrics.counter("mail_delivered_total", "").value() == 1);
  CHECK(log.contains("mail sent"));
}

TEST_CASE("an unreachable SMTP server: given up on after the attempts, counted and logged") {
  const auto port = testing::free_port();  // nobody listens on it
  testing::CapturedLog log;
  core::Metrics metrics;
  core::MailerOptions o;
  o.smtp_url = "smtp://127.0.0.1:" + std::to_string(port);
  o.attempts = 1;
  o.timeout_ms = 2000;
  core::Mailer mailer(o, log.logger(), metrics);
  mailer.send({"ann@example.com", "Reset", "body"});
  mailer.flush();
  CHECK(metrics.counter("mail_failed_total", "").value() == 1);
  CHECK(log.contains("mail not delivered"));
}

TEST_CASE("a full queue refuses instead of growing; stop drops what is left and says so") {
  testing::ScratchDir dir;
  testing::CapturedLog log;
  core::Metrics metrics;
  core::MailerOptions o;
  o.smtp_url = "smtp://127.0.0.1:1";  // refused at once; retries wait 2 s, so the queue stays full
  o.attempts = 2;
  o.max_queue = 2;
  core::Mailer mailer(o, log.logger(), metrics);
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += mailer.send({"a@example.com", "s", "b"}) ? 1 : 0;
  CHECK(accepted >= 2);
  CHECK(accepted <= 3);  // the worker may have taken one off the queue already
  CHECK(log.contains("the queue is full"));
  mailer.stop();
  CHECK(metrics.counter("mail_failed_total", "").value() == 5);
}
