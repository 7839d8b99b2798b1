#include "core/mailer.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>

namespace bookspace::core {

namespace {

std::string one_line(std::string s) {
  std::erase_if(s, [](char c) { return c == '\r' || c == '\n'; });
  return s;
}

bool ascii(std::string const& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

/// RFC 2047 encoded-word for non-ASCII header text.
std::string header_text(std::string const& s) {
  if (ascii(s)) return s;
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<unsigned char const*>(s.data()), s.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return "=?UTF-8?B?" + out + "?=";
}

std::string rfc5322_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct Upload {
  std::string const& data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* out, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, up->data.size() - up->offset);
  up->data.copy(out, n, up->offset);  // bytes for curl, not a C string
  up->offset += n;
  return n;
}

}  // namespace

std::string mail_address(std::string const& mailbox) {
  auto open = mailbox.rfind('<');
  auto close = mailbox.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open)
    return mailbox.substr(open + 1, close - open - 1);
  return mailbox;
}

Mailer::Mailer(MailerOptions options, Logger& log, Metrics& metrics)
    : options_(std::move(options)),
      log_(log),
      delivered_(metrics.counter("mail_delivered_total", "Mail handed to SMTP or written to the spool.")),
      failed_(metrics.counter("mail_failed_total", "Mail given up on (SMTP errors, full queue, shutdown).")),
      retried_(metrics.counter("mail_retried_total",
                               "Deliveries that failed and are retried later by the jobs queue.")) {
  static std::once_flag curl_once;
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_ = std::thread([this] { run(); });
}

Mailer::~Mailer() {
  stop();
}

bool Mailer::send(MailMessage message) {
  message.to = one_line(std::move(message.to));
  message.subject = one_line(std::move(message.subject));
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.max_queue) {
      queue_.push_back(std::move(message));
      changed_.notify_all();
      return true;
    }
  }
  failed_.inc();
  log_.error("mail dropped: the queue is full", {{"to", message.to}, {"subject", message.subject}});
  return false;
}

bool Mailer::deliver_now(MailMessage message, bool last_attempt, std::string& error) {
  message.to = one_line(std::move(message.to));
  message.subject = one_line(std::move(message.subject));
  const std::string rfc822 = format(message);
  const bool ok = options_.smtp_url.empty() ? spool(rfc822, message) : send_smtp(rfc822, message, &error);
  if (ok) {
    delivered_.inc();
  } else if (last_attempt) {
    failed_.inc();
    log_.error("mail not delivered", {{"to", message.to}, {"subject", message.subject}, {"error", error}});
  } else {
    retried_.inc();
  }
  if (!ok && error.empty()) error = "not spooled";
  return ok;
}

void Mailer::flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return (queue_.empty() && !busy_) || stopping_; });
}

void Mailer::stop(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    changed_.wait_for(lock, grace, [this] { return queue_.empty() && !busy_; });
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (auto const& m : queue_) {
    failed_.inc();
    log_.error("mail dropped at shutdown", {{"to", m.to}, {"subject", m.subject}});
  }
  queue_.clear();
}

void Mailer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    MailMessage m = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    const bool ok = deliver(m);
    (ok ? delivered_ : failed_).inc();
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

std::string Mailer::format(MailMessage const& m) const {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::string domain = mail_address(options_.from);
  domain = domain.find('@') == std::string::npos ? "bookspace" : domain.substr(domain.find('@') + 1);
  std::string out;
  out += "Date: " + rfc5322_date(now) + "\r\n";
  out += "From: " + one_line(options_.from) + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + header_text(m.subject) + "\r\n";
  out += "Message-ID: <" + random_hex(16) + "@" + one_line(domain) + ">\r\n";
  out +=
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
      "8bit\r\n\r\n";
  for (char c : m.body) {
    if (c == '\r') continue;
    if (c == '\n')
      out += "\r\n";
    else
      out += c;
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

bool Mailer::deliver(MailMessage const& m) {
  const std::string rfc822 = format(m);
  if (options_.smtp_url.empty()) return spool(rfc822, m);
  for (int attempt = 1;; ++attempt) {
    if (send_smtp(rfc822, m)) return true;
    if (attempt >= options_.attempts) break;
    std::unique_lock lock(mutex_);
    const auto pause = std::chrono::seconds(attempt == 1 ? 2 : 10);
    if (changed_.wait_for(lock, pause, [this] { return stopping_; })) break;
  }
  log_.error("mail not delivered", {{"to", m.to}, {"subject", m.subject}});
  return false;
}

bool Mailer::spool(std::string const& rfc822, MailMessage const& m) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options_.spool_dir, ec);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::string name = std::to_string(ms) + "-" + random_hex(4) + ".eml";
  const fs::path tmp = fs::path(options_.spool_dir) / ("." + name + ".tmp");
  const fs::path path = fs::path(options_.spool_dir) / name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) {
    ok = ::write(fd, rfc822.data(), rfc822.size()) == static_cast<ssize_t>(rfc822.size()) && ::fsync(fd) == 0;
    ::close(fd);
  }
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    log_.error("mail not spooled",
               {{"to", m.to}, {"dir", options_.spool_dir}, {"error", std::strerror(errno)}});
    return false;
  }
  log_.info("mail spooled (no SMTP configured)",
            {{"to", m.to}, {"subject", m.subject}, {"path", path.string()}});
  return true;
}

bool Mailer::send_smtp(std::string const& rfc822, MailMessage const& m, std::string* error_out) {
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  const std::string from = "<" + mail_address(options_.from) + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.to + ">").c_str());
  Upload upload{rfc822};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, options_.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  if (options_.smtp_url.starts_with("smtp://"))
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  // A server with a private CA: its bundle (mail.smtp_ca_file). Not verifying at all is a choice
  // the operator makes explicitly (mail.smtp_tls_verify false), never a fallback.
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.smtp_username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.smtp_username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.smtp_password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) {
    log_.info("mail sent", {{"to", m.to}, {"subject", m.subject}});
    return true;
  }
  const std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
  log_.warn("SMTP attempt failed", {{"to", m.to}, {"error", why}});
  if (error_out) *error_out = why;
  return false;
}

}  // namespace bookspace::core
