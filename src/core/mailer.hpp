#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace bookspace::core {

class Logger;
class Counter;
class Metrics;

/// One plain-text mail. `to` and `subject` lose any CR/LF (no header injection).
struct MailMessage {
  std::string to;
  std::string subject;
  std::string body;
};

struct MailerOptions {
  std::string smtp_url;  ///< smtp://host:port (STARTTLS when offered) or smtps://; empty: spool only
  std::string smtp_username;
  std::string smtp_password;
  std::string from = "BookSpace <bookspace@localhost>";
  std::string spool_dir;  ///< where mail goes when smtp_url is empty (embedded mode)
  std::size_t max_queue = 1000;
  int timeout_ms = 30000;  ///< per SMTP attempt
  int attempts = 3;        ///< SMTP attempts per message, 2 s then 10 s apart
  std::string ca_file;     ///< PEM CA bundle for the server's certificate; empty: the system's
  bool tls_verify = true;  ///< verify the server's certificate and name (STARTTLS and smtps)
};

/// Delivers mail on its own thread, so no caller blocks on SMTP. With an SMTP URL, libcurl sends
/// it; without, each message is written to the spool directory as an .eml file (and logged),
/// which is how embedded mode hands out password-reset links. The queue is bounded and lives in
/// memory: a message queued when the process dies is lost (callers' flows are retryable).
class Mailer {
 public:
  Mailer(MailerOptions options, Logger& log, Metrics& metrics);
  ~Mailer();
  Mailer(Mailer const&) = delete;
  Mailer& operator=(Mailer const&) = delete;

  /// Queues the message; false (and logged) when the queue is full or the mailer stopped.
  bool send(MailMessage message);
  /// Blocks until everything queued so far was delivered or given up on (tests, commands).
  void flush();
  /// Blocking, one attempt, for a caller that retries durably (a job): true when the server
  /// (or the spool) took the message; false with `error` set otherwise. Counted either way;
  /// `last_attempt` false: a failure is a retry (bookspace_mail_retried_total), true: given up.
  bool deliver_now(MailMessage message, bool last_attempt, std::string& error);
  /// Lets the queue drain for up to `grace`, then stops after the message being delivered; what
  /// is still queued is dropped and logged.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  MailerOptions const& options() const { return options_; }

 private:
  void run();
  bool deliver(MailMessage const& m);
  bool spool(std::string const& rfc822, MailMessage const& m);
  bool send_smtp(std::string const& rfc822, MailMessage const& m, std::string* error = nullptr);
  std::string format(MailMessage const& m) const;

  MailerOptions options_;
  Logger& log_;
  Counter& delivered_;
  Counter& failed_;
  Counter& retried_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<MailMessage> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

/// "Name <addr@host>" → "addr@host"; a bare address is returned as it is.
std::string mail_address(std::string const& mailbox);

}  // namespace bookspace::core
