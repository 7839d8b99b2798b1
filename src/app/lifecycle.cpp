#include "app/lifecycle.hpp"

#include "core/log.hpp"

#include <exception>

namespace bookspace::app {

void Lifecycle::step(std::string name, std::function<void()> const& start, std::function<void()> stop) {
  start();
  steps_.push_back({std::move(name), std::move(stop)});
}

void Lifecycle::unwind() {
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    if (!step.stop) continue;
    try {
      step.stop();
    } catch (std::exception const& e) {
      log_.error("stopping failed", {{"step", step.name}, {"error", e.what()}});
    }
  }
}

}  // namespace bookspace::app
