#pragma once

#include "app/module.hpp"

namespace bookspace::testing {

/// Test-only job types on the real jobs module (tests and benchmarks):
/// - `probe.record` (members): sleeps `sleep_ms` (checking cancelled(), reporting progress), then
///   records its effect once per job in probe_jobs_effects; every execution is logged in
///   probe_jobs_runs (start and end, µs) so tests can count runs and overlaps.
/// - `probe.noop` (members): returns {"ok": true} — the benchmark's job.
/// - `probe.fail` (members): always throws.
/// - `probe.admin` (administrators only): returns null.
app::ModuleDescriptor probe_jobs_module();

}  // namespace bookspace::testing
