#pragma once

#include "propagation.hpp"

#include "http/rate_limiter.hpp"

#include <boost/json/object.hpp>

namespace bookspace::http {
class Router;
}

namespace bookspace::auth {

class AuthService;
class LoginThrottle;

/// Per-client-IP limits of the open routes, and the per-email limit of reset requests.
struct RouteLimits {
  http::RateLimitPolicy register_ip, login_ip, refresh_ip, reset_ip, reset_email;
};

/// What the routes share.
struct RouteDeps {
  AuthService& service;
  RevocationPropagation& propagation;
  LoginThrottle& login_throttle;
  http::RateLimiter& limiter;
  RouteLimits limits;
};

/// /api/v1/auth/… and /.well-known/jwks.json (API.md, Auth).
void add_routes(http::Router& router, RouteDeps& deps);
/// The OpenAPI schemas those routes refer to (`User` too: users' routes return it).
boost::json::object openapi_schemas();

}  // namespace bookspace::auth
