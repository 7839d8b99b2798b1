#include "test_app.hpp"

#include "app/application_parts.hpp"
#include "app/kernel_config.hpp"
#include "core/database.hpp"
#include "core/log.hpp"

#include <soci/soci.h>

namespace bookspace::testing {

core::Database& ApplicationAccess::db(app::Application& a) {
  return *a.parts().db;
}

core::Metrics& ApplicationAccess::metrics(app::Application& a) {
  return a.parts().metrics;
}

TestApp::TestApp(Tweak tweak, std::vector<app::ModuleDescriptor> modules)
    : schema_(app::full_schema(modules)) {
  app::Config config = test_config(schema_, db_.url(), db_.dir());
  if (tweak) tweak(config);
  app_ = std::make_unique<app::Application>(std::move(config), std::move(modules), log_.logger());
  app_->start();
}

namespace {
/// Runs `f` on a connection of its own to `url` (outside the Application's pool).
void on_database(std::string const& url, std::function<void(soci::session&)> const& f) {
  core::Logger quiet(core::LogLevel::off);
  core::DatabaseOptions options;
  options.url = url;
  options.pool_size = 1;
  core::Database db(options, quiet);
  db.run_blocking([&](soci::session& sql) { f(sql); });
}
}  // namespace

void TestApp::execute_sql(std::string const& statement) {
  on_database(db_.url(), [&](soci::session& sql) { sql << statement; });
}

std::vector<std::string> TestApp::query_strings(std::string const& statement) {
  std::vector<std::string> out;
  on_database(db_.url(), [&](soci::session& sql) {
    soci::rowset<std::string> rows = sql.prepare << statement;
    for (auto const& text : rows) out.push_back(text);
  });
  return out;
}

TestApp::~TestApp() {
  app_->stop();
}

}  // namespace bookspace::testing
