#include "queue.hpp"

#include "rules.hpp"
#include "store.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"

#include <boost/json/serialize.hpp>

#include <soci/soci.h>

#include <stdexcept>

namespace bookspace::jobs {

namespace {

constexpr std::string_view existing_sql = "SELECT id FROM jobs_jobs WHERE unique_key = :key";

bool valid_type_name(std::string_view type) {
  return !type.empty() && type.size() <= 100 &&
         type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string_view::npos;
}

}  // namespace

std::string QueueImpl::enqueue(core::Tx& tx, JobRequest request) {
  return enqueue_job(tx, std::move(request)).id;
}

Job QueueImpl::enqueue_job(core::Tx& tx, JobRequest request) {
  auto const* registered = find(request.type);
  if (!registered) throw std::invalid_argument("no handler is registered for job type " + request.type);
  const long long now = clock_.now_ms();
  Job job;
  job.id = ids_.uuid_v7();
  job.type = std::move(request.type);
  job.payload = boost::json::serialize(request.payload);
  job.max_attempts = request.max_attempts.value_or(registered->options.max_attempts);
  job.priority = registered->options.priority;
  job.run_at = std::max<long long>(now, request.run_at.value_or(now));
  job.created_at = now;
  job.owner_id = std::move(request.owner_id);
  job.unique_key = std::move(request.unique_key);
  if (!insert_job(tx.sql, job)) {  // the unique key is taken: that job is the answer
    std::string existing;
    tx.sql << existing_sql, soci::use(*job.unique_key), soci::into(existing);
    return *find_job(tx.sql, existing);
  }
  events_.signal(tx, wake_channel);
  return job;
}

void QueueImpl::register_handler(std::string type, Handler handler, TypeOptions options) {
  if (!valid_type_name(type)) throw std::logic_error("bad job type name: " + type);
  if (!handler) throw std::logic_error("job type without a handler: " + type);
  if (options.max_attempts < 1 || options.max_attempts > max_attempts_limit)
    throw std::logic_error("job type " + type + ": max_attempts must be 1–100");
  std::lock_guard lock(mutex_);
  if (!types_.emplace(type, RegisteredType{std::move(handler), std::move(options)}).second)
    throw std::logic_error("job type registered twice: " + type);
}

std::vector<TypeInfo> QueueImpl::types() const {
  std::lock_guard lock(mutex_);
  std::vector<TypeInfo> out;
  for (auto const& [name, t] : types_) out.push_back({name, t.options});
  return out;
}

RegisteredType const* QueueImpl::find(std::string const& type) const {
  std::lock_guard lock(mutex_);
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

}  // namespace bookspace::jobs
