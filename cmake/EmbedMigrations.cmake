# Script mode: writes ${OUT}, a C++ file holding the SQL files ${FILES} as raw string literals.
set(body "")
foreach(file IN LISTS FILES)
  get_filename_component(base ${file} NAME)
  file(READ ${file} sql)
  string(FIND "${sql}" ")bsql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string terminator )bsql\"")
  endif()
  string(APPEND body "    {\"${base}\", R\"bsql(${sql})bsql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from migrations/${NAME}; do not edit.
#include \"core/migrations.hpp\"

namespace bookspace::migrations {
namespace {
const core::MigrationFile embedded_files[] = {
${body}};
}  // namespace

std::span<const core::MigrationFile> ${NAME}() { return embedded_files; }
}  // namespace bookspace::migrations
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
