#include "http/client_address.hpp"

#include "core/text.hpp"

#include <stdexcept>

namespace bookspace::http {

namespace ip = boost::asio::ip;

namespace {

/// A mapped IPv4 address (::ffff:a.b.c.d, as dual-stack sockets report) compares as IPv4.
ip::address canonical(ip::address const& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

/// Parses "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n"; false when it is none of them.
bool parse_entry(std::string_view text, std::vector<ip::network_v4>& v4, std::vector<ip::network_v6>& v6) {
  boost::system::error_code ec;
  const std::string entry(core::trim_blanks(text));
  if (entry.find('/') == std::string::npos) {
    auto a = ip::make_address(entry, ec);
    if (ec) return false;
    a = canonical(a);
    if (a.is_v4())
      v4.push_back(ip::network_v4(a.to_v4(), 32));
    else
      v6.push_back(ip::network_v6(a.to_v6(), 128));
    return true;
  }
  if (auto n4 = ip::make_network_v4(entry, ec); !ec) {
    v4.push_back(n4.canonical());
    return true;
  }
  ec.clear();
  if (auto n6 = ip::make_network_v6(entry, ec); !ec) {
    v6.push_back(n6.canonical());
    return true;
  }
  return false;
}

}  // namespace

ProxyTrust::ProxyTrust(std::vector<std::string> const& entries) {
  for (auto const& e : entries) {
    if (!parse_entry(e, v4_, v6_)) throw std::invalid_argument("not an IP address or CIDR network: " + e);
  }
}

std::optional<std::string> ProxyTrust::invalid(std::string_view entry) {
  std::vector<ip::network_v4> v4;
  std::vector<ip::network_v6> v6;
  if (parse_entry(entry, v4, v6)) return std::nullopt;
  return "\"" + std::string(entry) + "\" is not an IP address or CIDR network (e.g. 10.0.0.0/8)";
}

bool ProxyTrust::trusted(ip::address const& peer) const {
  const auto a = canonical(peer);
  if (a.is_v4()) {
    for (auto const& n : v4_) {
      if (ip::network_v4(a.to_v4(), n.prefix_length()).canonical() == n) return true;
    }
    return false;
  }
  for (auto const& n : v6_) {
    if (ip::network_v6(a.to_v6(), n.prefix_length()).canonical() == n) return true;
  }
  return false;
}

std::string ProxyTrust::client_ip(ip::address const& peer,
                                  std::optional<std::string_view> forwarded_for) const {
  if (!forwarded_for || !trusted(peer)) return canonical(peer).to_string();
  // Right to left: each trusted hop vouches for the one before it; the first untrusted entry is
  // the client as far as anyone we trust can tell.
  std::string_view list = *forwarded_for;
  std::string last_trusted = canonical(peer).to_string();
  while (!list.empty()) {
    const auto comma = list.rfind(',');
    std::string_view item =
        core::trim_blanks(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(item), ec);
    if (ec) return last_trusted;  // garbage from an untrusted hop: stop at the last address we trust
    a = canonical(a);
    if (!trusted(a)) return a.to_string();
    last_trusted = a.to_string();
  }
  return last_trusted;
}

}  // namespace bookspace::http
