#include "test_app.hpp"

#include "app/kernel_config.hpp"

namespace bookspace::testing {

TestApp::TestApp(Tweak tweak, std::vector<app::ModuleDescriptor> modules)
    : schema_(app::full_schema(modules)) {
  app::Config config = test_config(schema_, db_.url(), db_.dir());
  if (tweak) tweak(config);
  app_ = std::make_unique<app::Application>(std::move(config), std::move(modules), log_.logger());
  app_->start();
}

TestApp::~TestApp() {
  app_->stop();
}

}  // namespace bookspace::testing
