// Every event a module declares round-trips through JSON, refuses a broken payload, and is listed
// with exactly its fields in docs/events.md (the catalogue other modules and services read).

#include "core/event_contract.hpp"

#include <bookspace/auth/events.hpp>
#include <bookspace/documents/events.hpp>
#include <bookspace/files/events.hpp>
#include <bookspace/jobs/events.hpp>
#include <bookspace/users/events.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

using namespace bookspace;
namespace json = boost::json;

namespace {

std::string catalogue() {
  std::ifstream in(std::string(BOOKSPACE_SOURCE_DIR) + "/docs/events.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The catalogue's row for an event: | `type` | `field`, `field`, … |
std::string row_of(std::string_view type, json::object const& payload) {
  std::string fields;
  for (auto const& f : payload) fields += (fields.empty() ? "`" : ", `") + std::string(f.key()) + "`";
  return "| `" + std::string(type) + "` | " + fields + " |";
}

template <class E>
void check_contract(E const& sample) {
  const json::object first = sample.to_json();
  const E back = E::from_json(first);
  CHECK_MESSAGE(json::serialize(back.to_json()) == json::serialize(first), E::type);

  core::Event event;
  event.type = std::string(E::type);
  event.payload = first;
  CHECK(core::event_as<E>(event).has_value());
  event.type = "other.thing.v1";
  CHECK_FALSE(core::event_as<E>(event).has_value());

  // A payload that breaks the contract fails loudly (the consumer retries; nothing is skipped).
  event.type = std::string(E::type);
  for (auto const& field : first) {
    json::object broken = first;
    broken[field.key()] = json::array{json::array{}};  // no declared field is an array of arrays
    event.payload = broken;
    CHECK_THROWS_AS_MESSAGE(core::event_as<E>(event), std::invalid_argument, std::string(field.key()));
  }

  const std::string expected = row_of(E::type, first);
  CHECK_MESSAGE(catalogue().find(expected) != std::string::npos, "docs/events.md should have the row:\n"
                                                                     << expected);
}

documents::Snapshot snapshot() {
  return {"doc-1",       "u-1",         3,     "Title",       "Body", {"a", "b"},
          1795341600000, 1795341600123, "u-2", {"u-1", "u-2"}};
}

}  // namespace

TEST_CASE("auth's events are contracts") {
  check_contract(auth::UserRegistered{"u-1", "ann@example.com", "Ann", "member", 1795341600000});
  check_contract(auth::AccountUpdated{"u-1", "admin", true, 1795341600000, "Nia"});
  check_contract(auth::SessionRevoked{"s-1", "u-1", "logout"});
  check_contract(auth::ApiKeyRevoked{"k-1", "u-1", "ab12"});
  const jobs::Ended ended{"j-1", "documents.export", "u-1", 2, 1795341600000};
  check_contract(jobs::Succeeded{ended, json::object{{"file_id", "f-1"}}});
  check_contract(jobs::Failed{ended, "timed out after 600000 ms"});
  check_contract(jobs::Cancelled{ended});
  check_contract(files::Uploaded{"f-1", "a.pdf", "application/pdf", std::string(64, 'a'), "u-1", 1234, "d-1",
                                 1795341600000});
  check_contract(files::Deleted{"f-1", "u-1", std::nullopt});
  check_contract(files::TextExtracted{"f-1", "a.pdf", "application/pdf", "u-1", "d-1", "Hello, café", true,
                                      1795341600000});
}

TEST_CASE("users' events are contracts") {
  check_contract(users::ProfileUpdated{"u-1", "Ann", 1795341600000});
}

TEST_CASE("documents' events are contracts") {
  documents::Created created;
  static_cast<documents::Snapshot&>(created) = snapshot();
  check_contract(created);
  documents::Updated updated;
  static_cast<documents::Snapshot&>(updated) = snapshot();
  updated.restored_from_version = 1;
  check_contract(updated);
  documents::Restored restored;
  static_cast<documents::Snapshot&>(restored) = snapshot();
  check_contract(restored);
  check_contract(documents::Deleted{"doc-1", "u-1", 1795341600000, "u-1", {}, {"u-1", "u-2"}});
  check_contract(documents::Purged{"doc-1", "u-1", std::string("u-1"), {}});
  check_contract(documents::Shared{"doc-1", "u-1", "u-2", "editor", "u-1", {"u-1", "u-2"}});
  check_contract(documents::Unshared{"doc-1", "u-1", "u-2", "u-1", {"u-1"}});
  check_contract(
      documents::CommentAdded{"doc-1", "c-1", "u-2", "Nice", 1795341600000, "u-2", {"u-1", "u-2"}});
  // The retention's purge has no actor: null, and it round-trips as such.
  const auto system_purge = documents::Purged{"doc-1", "u-1", std::nullopt, {}}.to_json();
  CHECK(system_purge.at("actor_id").is_null());
  CHECK_FALSE(documents::Purged::from_json(system_purge).actor_id.has_value());
}
