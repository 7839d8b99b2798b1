// The users module's wiring: its service and routes built from the kernel's context, its
// event consumer and its descriptor.

#include "routes.hpp"
#include "service.hpp"

#include "app/module.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"

#include <bookspace/auth/events.hpp>

#include <bookspace/auth/auth.hpp>
#include <bookspace/users/users.hpp>

#include <bookspace/migrations/users.hpp>

#include <stdexcept>

namespace bookspace::users {

namespace {

class UsersModule final : public app::Module {
 public:
  explicit UsersModule(app::ModuleContext& ctx)
      : service_({ctx.db, ctx.events, ctx.clock, ctx.services.require<auth::Accounts>()}) {}

  void register_routes(http::Router& router) override { add_routes(router, service_); }
  boost::json::object openapi_schemas() const override { return users::openapi_schemas(); }
  void subscribe(core::EventLog& events) override {
    events.subscribe("users.profiles", core::types_of<auth::UserRegistered, auth::AccountUpdated>(),
                     &Service::follow_account);
  }

 private:
  Service service_;
};

}  // namespace

app::ModuleDescriptor users_module() {
  return {.name = "users",
          .summary = "profiles and administration",
          .depends_on = {"auth"},
          .required = {app::interface<auth::Accounts>()},
          .migrations = &migrations::users,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<UsersModule>(ctx);
          }};
}

}  // namespace bookspace::users
