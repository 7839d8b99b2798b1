# Every dependency comes from Debian 12 packages (see docker/install-deps.sh).
find_package(Boost 1.81.0 EXACT REQUIRED COMPONENTS json url program_options CONFIG)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# Email domains (IDNA2008) and Unicode character classes of names: core/text.cpp.
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(MAGIC REQUIRED IMPORTED_TARGET libmagic)
pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
pkg_check_modules(ZIP REQUIRED IMPORTED_TARGET libzip)
find_path(UNISTRING_INCLUDE_DIR unictype.h REQUIRED)
find_library(UNISTRING_LIBRARY unistring REQUIRED)

# Debian's SOCI ships neither a CMake package nor pkg-config files.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIBRARY soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql REQUIRED)
add_library(bookspace_soci INTERFACE)
target_include_directories(bookspace_soci SYSTEM INTERFACE ${SOCI_INCLUDE_DIR} ${PQ_INCLUDE_DIRS})
target_link_libraries(bookspace_soci INTERFACE
  ${SOCI_SQLITE3_LIBRARY} ${SOCI_POSTGRESQL_LIBRARY} ${SOCI_CORE_LIBRARY}
  PkgConfig::SQLITE3 PkgConfig::PQ ${CMAKE_DL_LIBS})

if(BOOKSPACE_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
