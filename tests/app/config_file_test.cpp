#include "app/config.hpp"
#include "app/kernel_config.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/documents.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/realtime/realtime.hpp>
#include <bookspace/search/search.hpp>
#include <bookspace/users/users.hpp>

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <sstream>

using namespace bookspace;

TEST_CASE("config/bookspace.jsonc documents every key of the binary with its default") {
  // The kernel's keys and those of every module in src/main.cpp.
  app::ConfigSchema schema = app::full_schema(
      {auth::auth_module(), users::users_module(), documents::documents_module(), files::files_module(),
       search::search_module(), jobs::jobs_module(), realtime::realtime_module()});
  const std::string path = std::string(BOOKSPACE_SOURCE_DIR) + "/config/bookspace.jsonc";
  app::ConfigSources sources;
  sources.file = path;
  app::Config from_file = app::Config::load(schema, sources);  // throws on unknown keys
  app::Config defaults = app::Config::defaults(schema);
  CHECK(boost::json::serialize(from_file.to_json(false)) == boost::json::serialize(defaults.to_json(false)));

  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  for (auto const& key : schema.keys()) {
    auto leaf = key.path.substr(key.path.rfind('.') + 1);
    INFO(key.path);
    CHECK(text.str().find("\"" + leaf + "\":") != std::string::npos);
  }
}
