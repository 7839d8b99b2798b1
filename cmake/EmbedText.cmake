# Script mode: writes ${OUT}, a C++ file defining `std::string_view bookspace::embedded::${NAME}()`
# that returns the contents of ${FILE}. The text is cut into raw-string pieces of at most 30,000
# bytes (compilers need only support 65,536-byte literals) and joined once at first use.
file(READ ${FILE} text)
string(FIND "${text}" ")btxt\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${FILE} contains the raw-string terminator )btxt\"")
endif()
string(LENGTH "${text}" total)
set(pieces "")
set(offset 0)
while(offset LESS total)
  string(SUBSTRING "${text}" ${offset} 30000 piece)
  string(APPEND pieces "      R\"btxt(${piece})btxt\",\n")
  math(EXPR offset "${offset} + 30000")
endwhile()
file(WRITE ${OUT}.tmp "// Generated from ${FILE}; do not edit.
#include <string>
#include <string_view>

namespace bookspace::embedded {
std::string_view ${NAME}() {
  static const std::string text = [] {
    std::string_view const pieces[] = {
${pieces}      \"\"};
    std::string out;
    for (auto p : pieces) out += p;
    return out;
  }();
  return text;
}
}  // namespace bookspace::embedded
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
