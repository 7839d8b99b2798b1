#pragma once

// The events jobs publishes when a job ends (STYLE.md 15; core/event_contract.hpp): realtime
// tells a job's owner, any module may react. Fields in docs/modules/jobs.md.

#include "core/clock.hpp"
#include "core/event_contract.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace bookspace::jobs {

/// What every job event carries: the job, its type and owner, and when it ended.
struct Ended {
  std::string id, job_type, owner_id;  ///< `job_type` is the job's type ("type" in JSON)
  std::int64_t attempts = 0;
  core::TimeMs finished_at = 0;
};

struct Succeeded : Ended {
  static constexpr std::string_view type = "jobs.succeeded.v1";
  boost::json::value result;  ///< what the handler returned: an object or null
  boost::json::object to_json() const;
  static Succeeded from_json(boost::json::object const& payload);
};

/// Dead-lettered: every attempt failed (`error` is the last one's).
struct Failed : Ended {
  static constexpr std::string_view type = "jobs.failed.v1";
  std::string error;
  boost::json::object to_json() const;
  static Failed from_json(boost::json::object const& payload);
};

struct Cancelled : Ended {
  static constexpr std::string_view type = "jobs.cancelled.v1";
  boost::json::object to_json() const;
  static Cancelled from_json(boost::json::object const& payload);
};

// ---- implementation --------------------------------------------------------------------------

namespace detail {

inline boost::json::object ended_json(Ended const& e) {
  return {{"id", e.id},
          {"type", e.job_type},
          {"owner_id", e.owner_id},
          {"attempts", e.attempts},
          {"finished_at", core::format_rfc3339(e.finished_at)}};
}

inline void ended_from(boost::json::object const& o, Ended& e) {
  namespace p = core::payload;
  e.id = p::text(o, "id");
  e.job_type = p::text(o, "type");
  e.owner_id = p::text(o, "owner_id");
  e.attempts = p::integer(o, "attempts");
  e.finished_at = p::time(o, "finished_at");
}

}  // namespace detail

inline boost::json::object Succeeded::to_json() const {
  auto o = detail::ended_json(*this);
  o["result"] = result;
  return o;
}
inline Succeeded Succeeded::from_json(boost::json::object const& o) {
  Succeeded e;
  detail::ended_from(o, e);
  auto const* r = o.if_contains("result");
  if (!r || !(r->is_object() || r->is_null())) throw std::invalid_argument("result: an object or null");
  e.result = *r;
  return e;
}

inline boost::json::object Failed::to_json() const {
  auto o = detail::ended_json(*this);
  o["error"] = error;
  return o;
}
inline Failed Failed::from_json(boost::json::object const& o) {
  Failed e;
  detail::ended_from(o, e);
  e.error = core::payload::text(o, "error");
  return e;
}

inline boost::json::object Cancelled::to_json() const {
  return detail::ended_json(*this);
}
inline Cancelled Cancelled::from_json(boost::json::object const& o) {
  Cancelled e;
  detail::ended_from(o, e);
  return e;
}

}  // namespace bookspace::jobs
