#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bookspace::app {

enum class ConfigType { string, integer, boolean, string_list };

/// One documented configuration key. `path` is dotted ("server.listen"); its environment
/// variable is BOOKSPACE_ + the path upper-cased with '.' → '_' (BOOKSPACE_SERVER_LISTEN).
struct ConfigKey {
  std::string path;
  ConfigType type = ConfigType::string;
  boost::json::value default_value;
  std::string help;
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::vector<std::string> choices;  ///< for strings: the allowed values, when limited
  /// Shown by `bookspace config` instead of the value ("***"), or a custom redaction.
  std::function<std::string(std::string const&)> redact;
  /// Extra check; returns the reason when the value is refused.
  std::function<std::optional<std::string>(boost::json::value const&)> validate;
};

/// An integer key with its range.
ConfigKey integer_key(std::string path, std::int64_t default_value, std::int64_t min, std::int64_t max,
                      std::string help);

/// ConfigKey::validate for a URL another process is reached at: empty, or http://host[:port]/….
std::optional<std::string> http_url_or_empty(boost::json::value const& value);

class ConfigSchema {
 public:
  void add(ConfigKey key);
  ConfigKey const* find(std::string const& path) const;
  std::vector<ConfigKey> const& keys() const { return keys_; }
  static std::string env_name(std::string const& path);

 private:
  std::vector<ConfigKey> keys_;
};

/// A key that is unknown, of the wrong type or out of range: `bookspace` exits 2 with it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, std::string const& reason)
      : std::runtime_error(key + ": " + reason), key_(std::move(key)) {}
  std::string const& key() const { return key_; }

 private:
  std::string key_;
};

/// Where the values come from; later sources win.
struct ConfigSources {
  std::optional<std::string> file;           ///< JSONC file; must exist when given
  std::map<std::string, std::string> env;    ///< the process environment
  std::map<std::string, std::string> flags;  ///< path → text, from the command line
};

/// The effective configuration: built-in defaults < file < BOOKSPACE_* environment < flags.
class Config {
 public:
  static Config load(ConfigSchema const& schema, ConfigSources const& sources);
  /// Defaults only (tests override with set()).
  static Config defaults(ConfigSchema const& schema);

  std::string str(std::string const& path) const;
  std::int64_t integer(std::string const& path) const;
  bool boolean(std::string const& path) const;
  std::vector<std::string> list(std::string const& path) const;
  /// Sets a value, checked against the schema; throws ConfigError.
  void set(std::string const& path, boost::json::value value);

  /// Nested JSON of every key, secrets redacted when `redact`.
  boost::json::object to_json(bool redact) const;
  ConfigSchema const& schema() const { return *schema_; }

 private:
  boost::json::value const& at(std::string const& path) const;
  ConfigSchema const* schema_ = nullptr;
  std::map<std::string, boost::json::value> values_;
};

/// The process environment as a map (only BOOKSPACE_* variables).
std::map<std::string, std::string> environment_from(char** envp);

}  // namespace bookspace::app
