#include "propagation.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/log.hpp"
#include "core/prepared.hpp"
#include "core/scheduler.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace bookspace::auth {

namespace {

constexpr long long live_ms = 15'000;
constexpr auto heartbeat_interval = std::chrono::seconds(5);
constexpr long long ack_retention_ms = 86'400'000;  // longer than any access token lives

constexpr std::string_view upsert_instance_sql =
    "INSERT INTO auth_instances (id, seen_at) VALUES (:id, :now)"
    " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at";
constexpr std::string_view delete_instance_sql = "DELETE FROM auth_instances WHERE id = :id";
constexpr std::string_view forget_dead_sql = "DELETE FROM auth_instances WHERE seen_at < :before";
constexpr std::string_view forget_acks_sql = "DELETE FROM auth_revocation_acks WHERE acked_at < :before";
constexpr std::string_view ack_sql =
    "INSERT INTO auth_revocation_acks (session_id, instance_id, acked_at) VALUES (:s, :i, :now)"
    " ON CONFLICT (session_id, instance_id) DO NOTHING";
constexpr std::string_view missing_sql =
    "SELECT COUNT(*) FROM auth_instances i WHERE i.seen_at >= :live AND NOT EXISTS"
    " (SELECT 1 FROM auth_revocation_acks a WHERE a.instance_id = i.id AND a.session_id = :s)";

}  // namespace

RevocationPropagation::RevocationPropagation(core::Database& db, core::Scheduler& scheduler,
                                             core::Clock const& clock, core::Logger& log,
                                             std::string instance_id)
    : db_(db), scheduler_(scheduler), clock_(clock), log_(log), instance_id_(std::move(instance_id)) {}

void RevocationPropagation::start() {
  db_.run_blocking([&](soci::session& sql) { heartbeat(sql); });
  heartbeat_task_ = scheduler_.every({"auth.instance_heartbeat", heartbeat_interval, 0.1, false,
                                      [this](soci::session& sql) { heartbeat(sql); }});
}

void RevocationPropagation::stop() {
  if (heartbeat_task_) scheduler_.cancel(heartbeat_task_);
  heartbeat_task_ = 0;
  try {
    db_.run_blocking([&](soci::session& sql) { core::execute(sql, delete_instance_sql, instance_id_); });
  } catch (std::exception const& e) {  // the row expires after 15 s anyway
    log_.warn("could not remove this instance from auth_instances", {{"error", e.what()}});
  }
}

void RevocationPropagation::heartbeat(soci::session& sql) {
  const long long now = clock_.now_ms();
  core::execute(sql, upsert_instance_sql, instance_id_, now);
  core::execute(sql, forget_dead_sql, now - 10 * live_ms);
  core::execute(sql, forget_acks_sql, now - ack_retention_ms);
}

void RevocationPropagation::applied(std::string session_id) {
  std::lock_guard lock(mutex_);
  pending_.push_back(std::move(session_id));
  if (scheduled_) return;
  scheduled_ = true;
  scheduler_.after("auth.revocation_ack", std::chrono::milliseconds(0),
                   [this](soci::session& sql) { write_acks(sql); });
}

void RevocationPropagation::write_acks(soci::session& sql) {
  std::vector<std::string> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(pending_);
    scheduled_ = false;
  }
  const long long now = clock_.now_ms();
  for (auto const& s : sessions) core::execute(sql, ack_sql, s, instance_id_, now);
}

core::Awaitable<bool> RevocationPropagation::wait(std::string session_id, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    const long long live = clock_.now_ms() - live_ms;
    const long long missing = co_await db_.run([&](soci::session& sql) {
      long long n = 0;
      sql << missing_sql, soci::use(live), soci::use(session_id), soci::into(n);
      return n;
    });
    if (missing == 0) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await core::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(16));
  }
}

core::Awaitable<void> RevocationPropagation::heartbeat_of(std::string instance_id) {
  const long long now = clock_.now_ms();
  co_await db_.run([&](soci::session& sql) { core::execute(sql, upsert_instance_sql, instance_id, now); });
}

core::Awaitable<void> RevocationPropagation::acknowledge(std::string instance_id,
                                                         std::vector<std::string> sessions) {
  const long long now = clock_.now_ms();
  co_await db_.run([&](soci::session& sql) {
    for (auto const& s : sessions) core::execute(sql, ack_sql, s, instance_id, now);
  });
}

core::Awaitable<void> RevocationPropagation::leave(std::string instance_id) {
  co_await db_.run([&](soci::session& sql) { core::execute(sql, delete_instance_sql, instance_id); });
}

}  // namespace bookspace::auth
