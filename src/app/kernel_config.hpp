#pragma once

#include "app/config.hpp"
#include "app/module.hpp"

#include <vector>

namespace bookspace::core {
struct MailerOptions;
}

namespace bookspace::app {

/// Declares the kernel's keys (server, database, log, modules, workers, events, migrations).
void declare_kernel_config(ConfigSchema& schema);
/// The kernel's keys plus every module's own section.
ConfigSchema full_schema(std::vector<ModuleDescriptor> const& modules);

/// "host:port" → parts; false when malformed.
bool parse_listen(std::string const& text, std::string& host, std::uint16_t& port);

/// The mail.* keys; the spool defaults to <data_dir>/mail.
core::MailerOptions mailer_options(Config const& config);

/// database.url, or sqlite://<data_dir>/bookspace.db when it is empty.
std::string effective_database_url(Config const& config);

}  // namespace bookspace::app
