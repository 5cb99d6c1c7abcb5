// The soak: runs a workload under each entry (strategy x allocator) in turn and records every run.
// The main process supervises (soak_supervisor.h); each entry runs in a process of its own
// (internal/entry_process.h); memsoak re-executes itself where a fresh program is needed
// (invocation.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>

#include "harness/invocation.h"
#include "harness/run_manifest.h"
#include "harness/soak_config.h"
#include "harness/strategy.h"
#include "harness/workload.h"

namespace memsoak::harness {

struct SoakOptions {
  std::FILE* progress_stream = stderr;
  bool show_progress = false;
  // Under --iterations auto, asked in the main process at each look (harness/sequential_looks.h)
  // with every record of entry `entry_index` so far, failed and lost runs included: true ends the
  // entry there (run.json: ended_by "settled"). The manifest is the soak's, entries before this one
  // complete. Unset: never settled, so an entry runs to its ceiling or deadline. The harness
  // knows no statistics; tools/ supplies the test (reports/sequential.h).
  std::function<bool(const RunManifest& manifest, std::uint32_t entry_index,
                     std::span<const RunRecord> records)>
      settled;
};

struct SoakResult {
  int interrupted_by_signal = 0;  // SIGINT or SIGTERM when the soak was stopped early
};

// Rebuilds, in a freshly executed memsoak, the workload source that run.json records (tools/
// knows the scenarios; the harness does not).
using SourceResolver = std::function<WorkloadSource(const RunManifest& manifest)>;

// Runs every entry of `config` into `run_dir` (already created): writes run.json first, then
// each entry in a process of its own forked (or, for another allocator, executed) from this one,
// which never runs the workload itself. Records go to samples.bin as runs finish; failed runs
// get a line in run.log. A process that crashes or hangs past the run timeout is replaced and
// the entry goes on from the next run. SIGINT/SIGTERM stop the soak: every process of it is
// killed and reaped, run.json is completed, and the result says which signal it was.
// Under config.iterations_auto an entry ends when options.settled says so at a look, at
// config.iterations runs, or (config.duration_ms) at its deadline: an equal share of the time
// left, fixed as it starts.
// Throws InputError when the workload refuses its input, std::runtime_error when the harness fails.
SoakResult run_soak(const SoakConfig& config, const WorkloadSource& source,
                    const std::filesystem::path& run_dir, const SoakOptions& options);

// The one place a StrategyContext is built, from the manifest, for entry `index`.
StrategyContext make_strategy_context(const RunManifest& manifest, std::uint32_t index,
                                      const WorkloadSource& source, const std::filesystem::path& run_dir);

// `memsoak _entry`: the body of an executed entry process. Once run.json is read and the entry
// found, it runs the entry and ends the process (exit code 0 when its result reached the
// supervisor, else 1) without returning. Throws InputError for a bad invocation or run.json.
int run_entry_invocation(const EntryInvocation& invocation, const SourceResolver& resolve);

// `memsoak _run`: one run of the spawn strategy. Returns its exit code.
int run_spawn_invocation(const SpawnInvocation& invocation, const SourceResolver& resolve);

}  // namespace memsoak::harness
