// The module contract checked against the build: a module's CMake DEPENDS and USES (what it may
// include and link) are its descriptor's depends_on and uses (what the kernel orders and
// requires); a required interface that nothing provides stops the start with exit 2 naming it.
#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/documents.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/realtime/realtime.hpp>
#include <bookspace/search/search.hpp>
#include <bookspace/users/users.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace bookspace;

namespace {

std::vector<app::ModuleDescriptor> all_modules() {
  return {auth::auth_module(),        users::users_module(),   documents::documents_module(),
          files::files_module(),      search::search_module(), jobs::jobs_module(),
          realtime::realtime_module()};
}

/// The arguments of `bookspace_add_module(<name> …)` in modules/<name>/CMakeLists.txt, by keyword.
std::map<std::string, std::set<std::string>> cmake_lists(std::string const& module) {
  std::ifstream file(std::string(BOOKSPACE_SOURCE_DIR) + "/modules/" + module + "/CMakeLists.txt");
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  const auto start = all.find("bookspace_add_module(");
  REQUIRE(start != std::string::npos);
  std::istringstream words(all.substr(start + 21, all.find(')', start) - start - 21));
  std::map<std::string, std::set<std::string>> out;
  std::string word, keyword = "NAME";
  while (words >> word) {
    if (word == "DEPENDS" || word == "USES" || word == "EVENTS_FROM" || word == "TESTS" ||
        word == "MIGRATIONS" || word == "DIR") {
      keyword = word;
      out[keyword];
    } else {
      out[keyword].insert(word);
    }
  }
  return out;
}

std::set<std::string> names(std::vector<std::string_view> const& list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE("each module's CMake DEPENDS and USES are its descriptor's depends_on and uses") {
  for (auto const& d : all_modules()) {
    CAPTURE(d.name);
    auto cmake = cmake_lists(std::string(d.name));
    CHECK(cmake["NAME"] == std::set<std::string>{std::string(d.name)});
    CHECK(cmake["DEPENDS"] == names(d.depends_on));
    CHECK(cmake["USES"] == names(d.uses));
    // Events read from a module need its public events header, nothing at run time.
    for (auto const& from : cmake["EVENTS_FROM"]) CHECK(from != d.name);
  }
}

TEST_CASE("a required interface no enabled module provides stops the start, naming both") {
  // users requires auth::Accounts; a process with users and only auth's stand-in has none.
  testing::TestDatabase db;
  auto r = testing::run_command({testing::bookspace_binary(), "serve", "--modules", "users", "--database",
                                 db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"},
                                {{"BOOKSPACE_AUTH_JWKS_URL", "http://127.0.0.1:9/.well-known/jwks.json"}});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("module 'users' requires bookspace::auth::Accounts") != std::string::npos);
}

TEST_CASE("require<T>() names the interface it could not find") {
  app::ServiceRegistry registry;
  CHECK_THROWS_WITH_AS(registry.require<documents::Access>(),
                       "required interface bookspace::documents::Access is provided by no enabled module",
                       app::ModuleError);
}
