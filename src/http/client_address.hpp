#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::http {

/// The proxies whose `X-Forwarded-For` is believed (server.trusted_proxies): exact addresses
/// or CIDR networks. Connections from them are exempt from the per-IP connection cap, and the
/// client address of their requests is the right-most `X-Forwarded-For` entry that is not
/// itself a trusted proxy. From anyone else the header is ignored: it is client-written text.
class ProxyTrust {
 public:
  ProxyTrust() = default;
  /// Throws std::invalid_argument naming an entry that is neither an address nor a network.
  explicit ProxyTrust(std::vector<std::string> const& entries);

  /// nullopt when `entry` is an address or network; else why not.
  static std::optional<std::string> invalid(std::string_view entry);

  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool trusted(boost::asio::ip::address const& peer) const;
  /// The client's address: the peer's, or taken from `forwarded_for` when the peer is trusted.
  std::string client_ip(boost::asio::ip::address const& peer,
                        std::optional<std::string_view> forwarded_for) const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace bookspace::http
