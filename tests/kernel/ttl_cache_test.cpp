// core::TtlCache, the kernel's one cache with expiry (auth's tokens and API keys, files' open
// contents, search's document counts): entries expire, the size stays bounded, and what a
// module forgets on an event is gone at once.
#include "core/ttl_cache.hpp"

#include <doctest/doctest.h>

#include <string>

using bookspace::core::TtlCache;

TEST_CASE("ttl cache: an entry is found until its expiry, then gone") {
  TtlCache<std::string, long long> cache(10);
  cache.put("a", "alpha", 100, 0);
  CHECK(cache.find("a", 99).value_or("") == "alpha");
  CHECK_FALSE(cache.find("a", 100));  // at the expiry: expired
  CHECK(cache.size() == 0);           // and dropped
  CHECK_FALSE(cache.find("missing", 0));
}

TEST_CASE("ttl cache: a full cache drops the expired entries first, else starts over") {
  TtlCache<int, long long> cache(3);
  cache.put("old", 1, 10, 0);
  cache.put("b", 2, 100, 0);
  cache.put("c", 3, 100, 0);
  cache.put("d", 4, 100, 50);  // full: "old" has expired by 50 and makes room
  CHECK(cache.size() == 3);
  CHECK(cache.find("b", 50) == 2);
  CHECK(cache.find("d", 50) == 4);
  cache.put("e", 5, 100, 60);  // full of live entries: everything goes, then "e"
  CHECK(cache.size() == 1);
  CHECK(cache.find("e", 60) == 5);
  cache.put("e", 6, 200, 60);  // replacing a key never evicts
  CHECK(cache.find("e", 150) == 6);
}

TEST_CASE("ttl cache: erase and erase_if forget at once; get_or_make computes once per freshness") {
  TtlCache<int, long long> cache(10);
  cache.put("x", 1, 100, 0);
  cache.put("y", 2, 100, 0);
  cache.put("z", 3, 100, 0);
  cache.erase("x");
  cache.erase_if([](int v) { return v == 3; });
  CHECK_FALSE(cache.find("x", 1));
  CHECK(cache.find("y", 1) == 2);
  CHECK_FALSE(cache.find("z", 1));
  int made = 0;
  auto make = [&] { return ++made * 10; };
  CHECK(cache.get_or_make("w", 0, 50, make) == 10);
  CHECK(cache.get_or_make("w", 49, 99, make) == 10);  // still fresh: not made again
  CHECK(cache.get_or_make("w", 50, 99, make) == 20);  // expired: made again
  CHECK(made == 2);
}
