#include "app/config.hpp"
#include "app/kernel_config.hpp"

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>

using namespace bookspace;
using app::Config;
using app::ConfigError;
using app::ConfigSources;

namespace {
std::string write_temp(std::string const& text) {
  auto path =
      std::filesystem::temp_directory_path() / ("bookspace-config-" + std::to_string(::getpid()) + ".jsonc");
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST_CASE("defaults < file < environment < flags") {
  app::ConfigSchema schema;
  app::declare_kernel_config(schema);
  CHECK(Config::defaults(schema).str("server.listen") == "0.0.0.0:8080");

  ConfigSources sources;
  sources.file = write_temp(R"({
    // comments are allowed
    "server": {"listen": "127.0.0.1:1000", "io_threads": 3,},
    "log": {"level": "warn"}
  })");
  Config from_file = Config::load(schema, sources);
  CHECK(from_file.str("server.listen") == "127.0.0.1:1000");
  CHECK(from_file.integer("server.io_threads") == 3);

  sources.env["BOOKSPACE_SERVER_LISTEN"] = "127.0.0.1:2000";
  sources.env["BOOKSPACE_MODULES_DISABLED"] = "search, jobs";
  Config from_env = Config::load(schema, sources);
  CHECK(from_env.str("server.listen") == "127.0.0.1:2000");
  CHECK(from_env.list("modules.disabled") == std::vector<std::string>{"search", "jobs"});
  CHECK(from_env.str("log.level") == "warn");

  sources.flags["server.listen"] = "127.0.0.1:3000";
  CHECK(Config::load(schema, sources).str("server.listen") == "127.0.0.1:3000");
  std::filesystem::remove(*sources.file);
}

TEST_CASE("invalid configuration names the key and the reason") {
  app::ConfigSchema schema;
  app::declare_kernel_config(schema);
  auto error_of = [&](ConfigSources const& s) -> std::string {
    try {
      Config::load(schema, s);
    } catch (ConfigError const& e) {
      return e.what();
    }
    return "";
  };
  ConfigSources s;
  s.file = write_temp(R"({"server": {"listen": "x", "bogus": 1}})");
  CHECK(error_of(s).find("server.listen") != std::string::npos);

  s.file = write_temp(R"({"server": {"bogus": 1}})");
  CHECK(error_of(s) == "server.bogus: unknown configuration key");

  s.file = write_temp(R"({"server": {"io_threads": "many"}})");
  CHECK(error_of(s) == "server.io_threads: must be an integer");

  s.file.reset();
  s.env["BOOKSPACE_SERVER_IO_THREADS"] = "-1";
  CHECK(error_of(s).find("BOOKSPACE_SERVER_IO_THREADS") == 0);

  s.env.clear();
  s.flags["log.level"] = "loud";
  CHECK(error_of(s).find("log.level: must be one of") == 0);

  s.flags.clear();
  s.flags["database.url"] = "mysql://x";
  CHECK(error_of(s).find("database.url") == 0);

  s.flags.clear();
  s.file = "/nonexistent/bookspace.jsonc";
  CHECK(error_of(s).find("cannot read") != std::string::npos);
}

TEST_CASE("the printed configuration redacts database passwords") {
  app::ConfigSchema schema;
  app::declare_kernel_config(schema);
  Config c = Config::defaults(schema);
  c.set("database.url", "postgresql://app:hunter2@db.local/bookspace");
  auto text = boost::json::serialize(c.to_json(true));
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("postgresql://app:***@db.local/bookspace") != std::string::npos);
  CHECK(boost::json::serialize(c.to_json(false)).find("hunter2") != std::string::npos);
}

TEST_CASE("environment names follow the key path") {
  CHECK(app::ConfigSchema::env_name("server.io_threads") == "BOOKSPACE_SERVER_IO_THREADS");
  CHECK(app::ConfigSchema::env_name("data_dir") == "BOOKSPACE_DATA_DIR");
}

TEST_CASE("listen addresses") {
  std::string host;
  std::uint16_t port = 0;
  CHECK(app::parse_listen("0.0.0.0:8080", host, port));
  CHECK(host == "0.0.0.0");
  CHECK(port == 8080);
  CHECK(app::parse_listen("[::1]:9", host, port));
  CHECK(host == "::1");
  CHECK_FALSE(app::parse_listen("8080", host, port));
  CHECK_FALSE(app::parse_listen("h:99999", host, port));
  CHECK_FALSE(app::parse_listen("h:", host, port));
}
