# Script mode: writes ${OUT}, a C++ file defining `std::string_view bookspace::embedded::${NAME}()`
# that returns the contents of ${FILE}.
file(READ ${FILE} text)
string(FIND "${text}" ")btxt\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${FILE} contains the raw-string terminator )btxt\"")
endif()
file(WRITE ${OUT}.tmp "// Generated from ${FILE}; do not edit.
#include <string_view>

namespace bookspace::embedded {
std::string_view ${NAME}() {
  static constexpr std::string_view text = R\"btxt(${text})btxt\";
  return text;
}
}  // namespace bookspace::embedded
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
