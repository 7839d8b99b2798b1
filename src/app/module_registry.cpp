#include "app/module.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace bookspace::app {

namespace {

std::string valid_names(std::vector<ModuleDescriptor> const& all) {
  if (all.empty()) return "(this binary has no modules)";
  std::string names;
  for (auto const& m : all) names += (names.empty() ? "" : ", ") + std::string(m.name);
  return names;
}

ModuleDescriptor const* find(std::vector<ModuleDescriptor> const& all, std::string_view name) {
  for (auto const& m : all) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace

std::vector<ModuleDescriptor const*> resolve_modules(std::vector<ModuleDescriptor> const& all,
                                                     std::vector<std::string> const& enabled,
                                                     std::vector<std::string> const& disabled,
                                                     Config const* config,
                                                     std::vector<ModuleDescriptor const*>* stand_ins) {
  for (auto const* list : {&enabled, &disabled}) {
    for (auto const& name : *list) {
      if (!find(all, name)) {
        throw ModuleError("unknown module '" + name + "'; valid modules: " + valid_names(all));
      }
    }
  }
  std::set<std::string_view> on;
  if (enabled.empty()) {
    for (auto const& m : all) on.insert(m.name);
  } else {
    for (auto const& name : enabled) on.insert(find(all, name)->name);
  }
  for (auto const& name : disabled) on.erase(name);

  for (auto const& m : all) {
    if (!on.contains(m.name)) continue;
    for (auto dep : m.depends_on) {
      if (!find(all, dep)) {
        throw ModuleError("module '" + std::string(m.name) + "' depends on '" + std::string(dep) +
                          "', which this binary does not have");
      }
      if (on.contains(dep)) continue;
      auto const* needed = find(all, dep);
      if (needed->stand_in && config && stand_ins &&
          !config->str(std::string(needed->stand_in_key)).empty()) {
        if (std::find(stand_ins->begin(), stand_ins->end(), needed) == stand_ins->end())
          stand_ins->push_back(needed);
        continue;
      }
      std::string error = "module '" + std::string(m.name) + "' needs module '" + std::string(dep) +
                          "', which is not enabled";
      if (needed->stand_in)
        error +=
            "; enable it, or set " + std::string(needed->stand_in_key) + " to reach the process that runs it";
      throw ModuleError(error);
    }
  }

  // Depth-first topological order, in declaration order among equals.
  std::vector<ModuleDescriptor const*> ordered;
  std::set<std::string_view> done, visiting;
  std::function<void(ModuleDescriptor const&)> visit = [&](ModuleDescriptor const& m) {
    if (done.contains(m.name)) return;
    if (visiting.contains(m.name)) {
      throw ModuleError("module dependency cycle through '" + std::string(m.name) + "'");
    }
    visiting.insert(m.name);
    for (auto dep : m.depends_on) {
      if (on.contains(dep)) visit(*find(all, dep));  // else its stand-in, created first
    }
    for (auto used : m.uses) {
      if (on.contains(used)) visit(*find(all, used));
    }
    visiting.erase(m.name);
    done.insert(m.name);
    ordered.push_back(&m);
  };
  for (auto const& m : all) {
    if (on.contains(m.name)) visit(m);
  }
  return ordered;
}

}  // namespace bookspace::app
