#include "http/connection_table.hpp"

#include "core/metrics.hpp"

#include <boost/asio/post.hpp>

namespace bookspace::http {

ConnectionTable::Slot::~Slot() {
  if (!table_) return;
  std::lock_guard lock(table_->mutex_);
  if (auto it = table_->per_ip_.find(ip_); it != table_->per_ip_.end() && --it->second == 0)
    table_->per_ip_.erase(it);
  --table_->open_;
}

std::optional<ConnectionTable::Slot> ConnectionTable::admit(std::string const& ip, bool exempt_from_ip_cap) {
  std::lock_guard lock(mutex_);
  auto& from_ip = per_ip_[ip];
  auto refuse = [&](core::Counter& counter) {
    if (from_ip == 0) per_ip_.erase(ip);
    counter.inc();
    return std::nullopt;
  };
  if (!exempt_from_ip_cap && from_ip >= max_per_ip_) return refuse(counters_.rejected_per_ip);
  if (open_.load() >= max_connections_) {
    Connection* evict = nullptr;
    for (Connection* c : connections_) {
      if (c->idle.load() && !c->evicting.exchange(true)) {
        evict = c;
        break;
      }
    }
    if (!evict) return refuse(counters_.rejected_total);
    counters_.evicted_total.inc();
    close_on_its_thread(evict, true);  // posted: runs on the connection's thread, after this lock
  }
  ++from_ip;
  ++open_;
  return Slot(shared_from_this(), ip);
}

ConnectionTable::Registration::Registration(ConnectionTable& table, Connection& c) : table_(table) {
  std::lock_guard lock(table_.mutex_);
  it_ = table_.connections_.insert(table_.connections_.end(), &c);
}

ConnectionTable::Registration::~Registration() {
  std::lock_guard lock(table_.mutex_);
  table_.connections_.erase(it_);
}

void ConnectionTable::close_all(bool only_idle) {
  std::lock_guard lock(mutex_);
  for (Connection* c : connections_) close_on_its_thread(c, only_idle);
}

void ConnectionTable::close_on_its_thread(Connection* c, bool only_idle) {
  boost::asio::post(c->executor, [c, only_idle, self = shared_from_this()] {
    // The connection may have ended meanwhile: look it up again, on its own thread.
    std::lock_guard lock(self->mutex_);
    for (Connection* live : self->connections_) {
      if (live != c) continue;
      if (only_idle && !c->idle) {
        c->evicting = false;  // busy again: keep it
        return;
      }
      // Closing (not only cancelling) also ends connections whose handler is still running
      // past the drain deadline: the client sees the connection end.
      boost::system::error_code ec;
      c->stream->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
      c->stream->socket().close(ec);
      return;
    }
  });
}

}  // namespace bookspace::http
