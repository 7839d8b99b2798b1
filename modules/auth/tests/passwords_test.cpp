#include "passwords.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

using namespace bookspace::auth;

TEST_CASE("every one of the 10,000 listed passwords is known, in any ASCII case; others are not") {
  std::ifstream in(BOOKSPACE_COMMON_PASSWORDS_FILE);
  REQUIRE(in);
  std::string word;
  int count = 0;
  while (std::getline(in, word)) {
    ++count;
    if (!is_common_password(word)) FAIL_CHECK("not recognised: " << word);
  }
  CHECK(count == 10'000);
  CHECK(is_common_password("PASSWORD"));
  CHECK(is_common_password("LeaveMeAlone"));
  CHECK_FALSE(is_common_password("leavemealone!"));
  CHECK_FALSE(is_common_password(""));
  CHECK_FALSE(is_common_password("correct horse battery"));
}

TEST_CASE("password rules: 12–128 code points of valid UTF-8, not common") {
  CHECK(password_problem("correct horse battery") == std::nullopt);
  CHECK(password_problem("elevenchars") == "must be at least 12 characters");
  CHECK(password_problem(std::string(129, 'x')) == "must be at most 128 characters");
  std::string twelve_emoji;
  for (int i = 0; i < 12; ++i) twelve_emoji += "\xF0\x9F\x94\x91";  // 48 bytes, 12 code points
  CHECK(password_problem(twelve_emoji) == std::nullopt);
  CHECK(password_problem("abcdefghijk\xC3") == "must be valid UTF-8");
  CHECK(password_problem("qwerty123456")->find("common") != std::string::npos);
}
