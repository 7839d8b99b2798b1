#include "rules.hpp"
#include "reset_mail.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace::auth;
using bookspace::core::ApiError;

TEST_CASE("refresh verdicts: rotate once, a race within the grace, a replay after it") {
  RefreshState s;
  s.expires_at = 10'000;
  CHECK(judge_refresh(s, 1'000, 2'000) == RefreshVerdict::rotate);
  s.rotated_at = 500;
  CHECK(judge_refresh(s, 2'500, 2'000) == RefreshVerdict::concurrent);
  CHECK(judge_refresh(s, 2'501, 2'000) == RefreshVerdict::reused);
  CHECK(judge_refresh(s, 500, 0) == RefreshVerdict::reused);  // no grace: the same millisecond is a reuse
  CHECK(judge_refresh(s, 10'000, 2'000) == RefreshVerdict::invalid);  // the session expired
  s.rotated_at.reset();
  s.revoked_at = 900;
  CHECK(judge_refresh(s, 1'000, 2'000) == RefreshVerdict::invalid);
  s.revoked_at.reset();
  s.account.disabled = true;
  CHECK(judge_refresh(s, 1'000, 2'000) == RefreshVerdict::invalid);
}

TEST_CASE("API key expiry and usability") {
  CHECK_FALSE(api_key_expiry(1'000, 0));
  CHECK(*api_key_expiry(1'000, 2) == 1'000 + 2 * 86'400'000LL);
  KeyRow k{"acc", "member", false, std::nullopt};
  CHECK(key_usable(k, 5));
  k.expires_at = 5;
  CHECK_FALSE(key_usable(k, 5));
  CHECK(key_usable(k, 4));
  k.disabled = true;
  CHECK_FALSE(key_usable(k, 4));
}

TEST_CASE("expires_in_days: absent or null means never, else 1 to 3650") {
  CHECK(api_key_days(nullptr) == 0);
  boost::json::value v = nullptr;
  CHECK(api_key_days(&v) == 0);
  v = 30;
  CHECK(api_key_days(&v) == 30);
  for (boost::json::value bad :
       {boost::json::value(0), boost::json::value(3651), boost::json::value("7"), boost::json::value(1.5)}) {
    CHECK_THROWS_AS(api_key_days(&bad), ApiError);
  }
}

TEST_CASE("names, emails and reset tokens") {
  CHECK(display_name_or_default("", "ann@example.com") == "ann");
  CHECK(display_name_or_default("Ann", "ann@example.com") == "Ann");
  CHECK_NOTHROW(check_name("name", "Ann"));
  CHECK_THROWS_AS(check_name("name", ""), ApiError);
  CHECK_THROWS_AS(check_name("name", std::string(101, 'a')), ApiError);
  CHECK(normalize_email(" Ann@Example.COM ") == "ann@example.com");
  CHECK_THROWS_AS(normalize_email("not an address"), ApiError);
  CHECK(malformed_reset_token(""));
  CHECK(malformed_reset_token(std::string(257, 'a')));
  CHECK_FALSE(malformed_reset_token("abc"));
  CHECK_THROWS_AS(check_new_password("password", "short"), ApiError);
}

TEST_CASE("the reset mail carries a link when a template is set, else the token") {
  auto with_link = reset_mail({"https://app.example/reset?t={token}", 30}, "ann@example.com", "TOK");
  CHECK(with_link.to == "ann@example.com");
  CHECK(with_link.body.find("https://app.example/reset?t=TOK") != std::string::npos);
  CHECK(with_link.body.find("within 30 minutes") != std::string::npos);
  auto bare = reset_mail({"", 15}, "ann@example.com", "TOK");
  CHECK(bare.body.find("\n  TOK\n") != std::string::npos);
  CHECK(bare.body.find("password-reset/confirm") != std::string::npos);
}
