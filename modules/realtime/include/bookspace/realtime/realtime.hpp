#pragma once

#include "app/module.hpp"

namespace bookspace::realtime {

/// The realtime module: GET /api/v1/realtime upgrades to a WebSocket over which an
/// authenticated client subscribes to documents it may read and to its own jobs, and receives
/// their events — from the event log, so from every instance. No tables, no public interface,
/// no events of its own. See docs/modules/realtime.md.
app::ModuleDescriptor realtime_module();

}  // namespace bookspace::realtime
