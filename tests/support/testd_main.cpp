// bookspace-testd: the real kernel and CLI with the test-only probe modules, for tests that
// need a separate process (kill -9, two processes on one database, signals) and benchmarks.
#include "app/cli.hpp"
#include "test_support.hpp"

#include <sodium.h>

extern char** environ;

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  return bookspace::app::run_cli(
      argc, argv, environ, {bookspace::testing::probe_module(), bookspace::testing::probe_sink_module()});
}
