#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

// Exit code 77 tells CTest the PostgreSQL pass was skipped (no BOOKSPACE_TEST_PG given);
// `make test` always provides one.
int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  const char* backend = std::getenv("BOOKSPACE_TEST_BACKEND");
  if (backend && std::string_view(backend) == "postgresql" && !std::getenv("BOOKSPACE_TEST_PG")) {
    std::puts("skipped: BOOKSPACE_TEST_PG is not set");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
