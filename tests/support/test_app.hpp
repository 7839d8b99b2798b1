#pragma once

#include "app/application.hpp"
#include "test_support.hpp"

namespace bookspace::core {
class Database;
class Metrics;
}  // namespace bookspace::core

#include <functional>
#include <memory>

namespace bookspace::testing {

/// The real Application (kernel + probe modules by default) on 127.0.0.1:0 with a database of
/// its own, started in this process.
/// What a test may reach inside an Application (Application::Parts stays private to the kernel).
class ApplicationAccess {
 public:
  static core::Database& db(app::Application& a);
  static core::Metrics& metrics(app::Application& a);
};

class TestApp {
 public:
  using Tweak = std::function<void(app::Config&)>;
  explicit TestApp(Tweak tweak = {},
                   std::vector<app::ModuleDescriptor> modules = {probe_module(), probe_sink_module()});
  ~TestApp();

  std::uint16_t port() const { return app_->port(); }
  HttpClient client() const { return HttpClient(port()); }
  app::Application& app() { return *app_; }
  /// The application's own database pool and metrics registry (in-process checks).
  core::Database& db() { return ApplicationAccess::db(*app_); }
  core::Metrics& metrics() { return ApplicationAccess::metrics(*app_); }
  CapturedLog& log() { return log_; }
  TestDatabase& database() { return db_; }
  void stop() { app_->stop(); }
  /// Runs one SQL statement on the app's database from outside (to age rows, say).
  void execute_sql(std::string const& statement);
  /// Runs a query from outside and returns its first column as text, row by row.
  std::vector<std::string> query_strings(std::string const& statement);

 private:
  TestDatabase db_;
  CapturedLog log_;
  app::ConfigSchema schema_;
  std::unique_ptr<app::Application> app_;
};

}  // namespace bookspace::testing
