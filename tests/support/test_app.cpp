#include "test_app.hpp"

#include "app/kernel_config.hpp"
#include "core/database.hpp"
#include "core/log.hpp"

#include <soci/soci.h>

namespace bookspace::testing {

TestApp::TestApp(Tweak tweak, std::vector<app::ModuleDescriptor> modules)
    : schema_(app::full_schema(modules)) {
  app::Config config = test_config(schema_, db_.url(), db_.dir());
  if (tweak) tweak(config);
  app_ = std::make_unique<app::Application>(std::move(config), std::move(modules), log_.logger());
  app_->start();
}

void TestApp::execute_sql(std::string const& statement) {
  core::Logger quiet(core::LogLevel::off);
  core::DatabaseOptions options;
  options.url = db_.url();
  options.pool_size = 1;
  core::Database db(options, quiet);
  db.run_blocking([&](soci::session& sql) { sql << statement; });
}

TestApp::~TestApp() {
  app_->stop();
}

}  // namespace bookspace::testing
