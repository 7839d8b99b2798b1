// The bookspace binary. Reading this file tells what it contains: the kernel, and the domain
// modules listed below (dependencies are checked at start; order here does not matter).
#include "app/cli.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/documents.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/realtime/realtime.hpp>
#include <bookspace/search/search.hpp>
#include <bookspace/users/users.hpp>

#include <sodium.h>

#include <cstdio>

extern char** environ;

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fputs("bookspace: libsodium failed to initialise\n", stderr);
    return 1;
  }
  std::vector<bookspace::app::ModuleDescriptor> modules = {
      bookspace::auth::auth_module(),           bookspace::users::users_module(),
      bookspace::documents::documents_module(), bookspace::files::files_module(),
      bookspace::search::search_module(),       bookspace::jobs::jobs_module(),
      bookspace::realtime::realtime_module(),
  };
  return bookspace::app::run_cli(argc, argv, environ, std::move(modules));
}
