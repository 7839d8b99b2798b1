// bookspace-jobsd: the real binary's modules plus the test-only job types (probe_jobs), for the
// jobs tests that need separate processes (kill -9, two instances) and tests/perf/jobs.sh.
#include "app/cli.hpp"
#include "probe_jobs.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/documents.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/users/users.hpp>

#include <sodium.h>

extern char** environ;

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  return bookspace::app::run_cli(argc, argv, environ,
                                 {bookspace::auth::auth_module(), bookspace::users::users_module(),
                                  bookspace::documents::documents_module(), bookspace::jobs::jobs_module(),
                                  bookspace::testing::probe_jobs_module()});
}
