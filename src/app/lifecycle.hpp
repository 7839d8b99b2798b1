#pragma once

// Private to app/: start-up as a stack that shutdown unwinds.

#include <functional>
#include <string>
#include <vector>

namespace bookspace::core {
class Logger;
}

namespace bookspace::app {

/// Start-up and shutdown in one sequence (Seastar's deferred stop): each step that started
/// keeps how it stops, and unwind() stops them in reverse order. A step that throws while
/// starting keeps nothing, so unwinding stops exactly what had started before it.
class Lifecycle {
 public:
  explicit Lifecycle(core::Logger& log) : log_(log) {}
  ~Lifecycle() { unwind(); }
  Lifecycle(Lifecycle const&) = delete;
  Lifecycle& operator=(Lifecycle const&) = delete;

  /// Runs `start`; once it returned, `stop` (may be empty) is kept for unwind().
  void step(std::string name, std::function<void()> const& start, std::function<void()> stop);
  /// Stops every started step, the last first; each once. A stop that throws is logged and the
  /// unwinding goes on.
  void unwind();

 private:
  struct Step {
    std::string name;
    std::function<void()> stop;
  };
  core::Logger& log_;
  std::vector<Step> steps_;
};

}  // namespace bookspace::app
