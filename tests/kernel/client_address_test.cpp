#include "http/client_address.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using bookspace::http::ProxyTrust;
namespace ip = boost::asio::ip;

TEST_CASE("X-Forwarded-For is believed only from trusted proxies, right to left") {
  ProxyTrust trust({"10.0.0.0/8", "192.168.1.7", "fd00::/8"});
  const auto proxy = ip::make_address("10.1.2.3");
  const auto stranger = ip::make_address("203.0.113.9");

  CHECK(trust.trusted(proxy));
  CHECK(trust.trusted(ip::make_address("192.168.1.7")));
  CHECK_FALSE(trust.trusted(ip::make_address("192.168.1.8")));
  CHECK(trust.trusted(ip::make_address("fd12::1")));
  CHECK(trust.trusted(ip::make_address("::ffff:10.9.9.9")));  // dual-stack sockets map IPv4

  // From an untrusted peer the header is the client's own text: ignored.
  CHECK(trust.client_ip(stranger, "1.2.3.4") == "203.0.113.9");
  // From a proxy: the right-most entry that is not a proxy itself.
  CHECK(trust.client_ip(proxy, "1.2.3.4") == "1.2.3.4");
  CHECK(trust.client_ip(proxy, "6.6.6.6, 1.2.3.4, 10.0.0.5") == "1.2.3.4");
  CHECK(trust.client_ip(proxy, std::nullopt) == "10.1.2.3");
  // Garbage stops the walk at the last address a proxy vouched for.
  CHECK(trust.client_ip(proxy, "evil, 10.0.0.5") == "10.0.0.5");
  CHECK(trust.client_ip(proxy, "") == "10.1.2.3");

  CHECK(ProxyTrust::invalid("10.0.0.0/8") == std::nullopt);
  CHECK(ProxyTrust::invalid("::1") == std::nullopt);
  CHECK(ProxyTrust::invalid("10.0.0.0/33").has_value());
  CHECK(ProxyTrust::invalid("proxy.example").has_value());
  CHECK_THROWS_AS(ProxyTrust({"nonsense"}), std::invalid_argument);
  CHECK(ProxyTrust().empty());
}
