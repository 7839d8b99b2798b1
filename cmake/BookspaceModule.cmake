# bookspace_embed_migrations(<target> <name> <dir>)
#   Compiles every <dir>/NNNN_<what>[.sqlite|.postgres].sql into <target> and defines
#   `std::span<const bookspace::core::MigrationFile> bookspace::migrations::<name>()`.
function(bookspace_embed_migrations target name dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/migrations_${name}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DNAME=${name} -DOUT=${out} "-DFILES=${sql_files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake
    COMMENT "Embedding migrations of ${name}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# bookspace_embed_text(<target> <name> <file>)
#   Compiles <file> into <target> as `std::string_view bookspace::embedded::<name>()`.
function(bookspace_embed_text target name file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${name}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DNAME=${name} -DOUT=${out} -DFILE=${file}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedText.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/EmbedText.cmake
    COMMENT "Embedding ${file}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# bookspace_add_module(<name> [DEPENDS <module>...] [EVENTS_FROM <module>...] [MIGRATIONS <dir>]
#                      [TESTS <file>...])
#   One domain module: STATIC library bookspace_<name> with a PUBLIC include/ and a PRIVATE src/,
#   its migrations compiled in, and its unit tests (modules/<name>/tests) as bookspace_<name>_tests.
#   DEPENDS: modules it calls (linked; must be enabled with it). EVENTS_FROM: modules whose events
#   it consumes without depending on them (their header-only event contracts are visible).
function(bookspace_add_module name)
  cmake_parse_arguments(ARG "" "MIGRATIONS;DIR" "DEPENDS;EVENTS_FROM;TESTS" ${ARGN})
  if(NOT ARG_DIR)
    set(ARG_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  if(NOT ARG_MIGRATIONS)
    set(ARG_MIGRATIONS ${PROJECT_SOURCE_DIR}/migrations/${name})
  endif()
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${ARG_DIR}/src/*.cpp)
  add_library(bookspace_${name} STATIC ${sources})
  target_include_directories(bookspace_${name} PUBLIC ${ARG_DIR}/include PRIVATE ${ARG_DIR}/src)
  set(deps bookspace_kernel)
  foreach(dep IN LISTS ARG_DEPENDS)
    list(APPEND deps bookspace_${dep})
  endforeach()
  target_link_libraries(bookspace_${name} PUBLIC ${deps})
  foreach(source IN LISTS ARG_EVENTS_FROM)
    target_include_directories(bookspace_${name} PRIVATE ${PROJECT_SOURCE_DIR}/modules/${source}/include)
  endforeach()
  if(EXISTS ${ARG_MIGRATIONS})
    bookspace_embed_migrations(bookspace_${name} ${name} ${ARG_MIGRATIONS})
  endif()
  if(BOOKSPACE_BUILD_TESTS AND ARG_TESTS)
    add_executable(bookspace_${name}_tests ${ARG_TESTS})
    target_include_directories(bookspace_${name}_tests PRIVATE ${ARG_DIR}/src)
    target_link_libraries(bookspace_${name}_tests PRIVATE bookspace_${name} bookspace_test_support)
    add_test(NAME ${name}.unit COMMAND bookspace_${name}_tests)
  endif()
endfunction()
