#include "app/config.hpp"

#include <algorithm>

#include <boost/url/parse.hpp>

#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>

namespace bookspace::app {

namespace json = boost::json;

std::optional<std::string> http_url_or_empty(json::value const& value) {
  std::string_view url = value.as_string();
  if (url.empty()) return std::nullopt;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) return "must be an http:// URL";
  return std::nullopt;
}

ConfigKey integer_key(std::string path, std::int64_t default_value, std::int64_t min, std::int64_t max,
                      std::string help) {
  ConfigKey k{std::move(path), ConfigType::integer, default_value, std::move(help)};
  k.min = min;
  k.max = max;
  return k;
}

void ConfigSchema::add(ConfigKey key) {
  if (find(key.path)) throw std::logic_error("config key declared twice: " + key.path);
  keys_.push_back(std::move(key));
}

ConfigKey const* ConfigSchema::find(std::string const& path) const {
  for (auto const& k : keys_) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::string ConfigSchema::env_name(std::string const& path) {
  std::string out = "BOOKSPACE_";
  for (char c : path) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string type_name(ConfigType t) {
  switch (t) {
    case ConfigType::string:
      return "a string";
    case ConfigType::integer:
      return "an integer";
    case ConfigType::boolean:
      return "true or false";
    case ConfigType::string_list:
      return "a list of strings";
  }
  return "?";
}

json::value check(ConfigKey const& key, json::value value) {
  switch (key.type) {
    case ConfigType::string:
      if (!value.is_string()) throw ConfigError(key.path, "must be " + type_name(key.type));
      if (!key.choices.empty()) {
        bool ok = false;
        std::string all;
        for (auto const& c : key.choices) {
          ok = ok || c == value.as_string();
          all += (all.empty() ? "" : ", ") + c;
        }
        if (!ok) throw ConfigError(key.path, "must be one of: " + all);
      }
      break;
    case ConfigType::integer: {
      if (!value.is_int64() && !value.is_uint64()) {
        throw ConfigError(key.path, "must be " + type_name(key.type));
      }
      if (value.is_uint64() && value.as_uint64() > static_cast<std::uint64_t>(key.max)) {
        throw ConfigError(key.path, "must be at most " + std::to_string(key.max));
      }
      const std::int64_t v =
          value.is_int64() ? value.as_int64() : static_cast<std::int64_t>(value.as_uint64());
      if (v < key.min) throw ConfigError(key.path, "must be at least " + std::to_string(key.min));
      if (v > key.max) throw ConfigError(key.path, "must be at most " + std::to_string(key.max));
      value = v;
      break;
    }
    case ConfigType::boolean:
      if (!value.is_bool()) throw ConfigError(key.path, "must be " + type_name(key.type));
      break;
    case ConfigType::string_list:
      if (!value.is_array()) throw ConfigError(key.path, "must be " + type_name(key.type));
      for (auto const& item : value.as_array()) {
        if (!item.is_string()) throw ConfigError(key.path, "must be " + type_name(key.type));
      }
      break;
  }
  if (key.validate) {
    if (auto reason = key.validate(value)) throw ConfigError(key.path, *reason);
  }
  return value;
}

/// Text from the environment or a flag, read as the key's type.
json::value from_text(ConfigKey const& key, std::string const& text) {
  switch (key.type) {
    case ConfigType::string:
      return json::string(text);
    case ConfigType::integer: {
      std::size_t used = 0;
      std::int64_t v = 0;
      try {
        v = std::stoll(text, &used);
      } catch (std::exception const&) {
        used = 0;
      }
      if (used == 0 || used != text.size()) {
        throw ConfigError(key.path, "must be " + type_name(key.type) + ", got \"" + text + "\"");
      }
      return v;
    }
    case ConfigType::boolean:
      if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
      if (text == "false" || text == "0" || text == "no" || text == "off") return false;
      throw ConfigError(key.path, "must be " + type_name(key.type) + ", got \"" + text + "\"");
    case ConfigType::string_list: {
      json::array items;
      std::stringstream in(text);
      std::string item;
      while (std::getline(in, item, ',')) {
        auto b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
        if (b != std::string::npos) items.emplace_back(item.substr(b, e - b + 1));
      }
      return items;
    }
  }
  return nullptr;
}

void flatten(json::object const& obj, std::string const& prefix, ConfigSchema const& schema,
             std::map<std::string, json::value>& out) {
  for (auto const& [k, v] : obj) {
    std::string path = prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
    if (auto const* key = schema.find(path)) {
      out[path] = check(*key, v);
      continue;
    }
    if (v.is_object()) {
      bool section = false;
      for (auto const& key : schema.keys()) section = section || key.path.starts_with(path + ".");
      if (section) {
        flatten(v.as_object(), path, schema, out);
        continue;
      }
    }
    throw ConfigError(path, "unknown configuration key");
  }
}

}  // namespace

Config Config::defaults(ConfigSchema const& schema) {
  Config c;
  c.schema_ = &schema;
  for (auto const& key : schema.keys()) c.values_[key.path] = key.default_value;
  return c;
}

Config Config::load(ConfigSchema const& schema, ConfigSources const& sources) {
  Config c = defaults(schema);
  if (sources.file) {
    std::ifstream in(*sources.file);
    if (!in) throw ConfigError("--config", "cannot read " + *sources.file);
    std::stringstream text;
    text << in.rdbuf();
    json::parse_options options;
    options.allow_comments = true;
    options.allow_trailing_commas = true;
    boost::system::error_code ec;
    json::value doc = json::parse(text.str(), ec, {}, options);
    if (ec) throw ConfigError(*sources.file, "not valid JSONC: " + ec.message());
    if (!doc.is_object()) throw ConfigError(*sources.file, "must hold a JSON object");
    std::map<std::string, json::value> from_file;
    flatten(doc.as_object(), "", schema, from_file);
    for (auto& [k, v] : from_file) c.values_[k] = std::move(v);
  }
  // A typo in a variable's name would otherwise be silently ignored, the setting left at its
  // default. BOOKSPACE_TEST_* belong to the test suite, which runs the binary in their presence.
  for (auto const& entry : sources.env) {
    std::string const& name = entry.first;
    if (name.starts_with("BOOKSPACE_TEST_")) continue;
    const bool known = std::any_of(schema.keys().begin(), schema.keys().end(), [&](ConfigKey const& k) {
      return ConfigSchema::env_name(k.path) == name;
    });
    if (!known) throw ConfigError(name, "unknown environment variable: no configuration key has this name");
  }
  for (auto const& key : schema.keys()) {
    auto it = sources.env.find(ConfigSchema::env_name(key.path));
    if (it == sources.env.end()) continue;
    try {
      c.values_[key.path] = check(key, from_text(key, it->second));
    } catch (ConfigError const& e) {
      throw ConfigError(ConfigSchema::env_name(key.path), std::string(e.what()).substr(key.path.size() + 2));
    }
  }
  for (auto const& [path, text] : sources.flags) {
    auto const* key = schema.find(path);
    if (!key) throw ConfigError(path, "unknown configuration key");
    c.values_[path] = check(*key, from_text(*key, text));
  }
  return c;
}

json::value const& Config::at(std::string const& path) const {
  auto it = values_.find(path);
  if (it == values_.end()) throw std::logic_error("undeclared config key " + path);
  return it->second;
}

std::string Config::str(std::string const& path) const {
  auto const& v = at(path);
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

std::int64_t Config::integer(std::string const& path) const {
  return at(path).to_number<std::int64_t>();
}

bool Config::boolean(std::string const& path) const {
  return at(path).as_bool();
}

std::vector<std::string> Config::list(std::string const& path) const {
  std::vector<std::string> out;
  for (auto const& item : at(path).as_array()) out.emplace_back(item.as_string());
  return out;
}

void Config::set(std::string const& path, json::value value) {
  auto const* key = schema_->find(path);
  if (!key) throw ConfigError(path, "unknown configuration key");
  values_[path] = check(*key, std::move(value));
}

json::object Config::to_json(bool redact) const {
  json::object root;
  for (auto const& key : schema_->keys()) {
    json::object* node = &root;
    std::string const& path = key.path;
    std::size_t start = 0;
    for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
      auto& child = (*node)[path.substr(start, dot - start)];
      if (!child.is_object()) child = json::object();
      node = &child.as_object();
      start = dot + 1;
    }
    json::value value = at(path);
    if (redact && key.redact && value.is_string() && !value.as_string().empty()) {
      value = key.redact(std::string(value.as_string()));
    }
    (*node)[path.substr(start)] = std::move(value);
  }
  return root;
}

std::map<std::string, std::string> environment_from(char** envp) {
  std::map<std::string, std::string> env;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("BOOKSPACE_")) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace bookspace::app
