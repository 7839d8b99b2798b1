#pragma once

#include "core/async.hpp"
#include "http/message.hpp"

#include <optional>
#include <string_view>

namespace bookspace::http {

/// Turns a bearer credential (access token or API key) into a principal. Implemented by the
/// auth module and provided through the ServiceRegistry; the dispatcher only knows this
/// interface.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  /// nullopt: the credential is not valid (→ 401).
  virtual core::Awaitable<std::optional<Principal>> authenticate(std::string_view credential,
                                                                 RequestContext const& ctx) = 0;
};

}  // namespace bookspace::http
