// The soak loop: runs a workload under each strategy (and allocator) in turn and records every run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/allocators.h"
#include "harness/strategy.h"
#include "harness/workload.h"

namespace memsoak::harness {

struct SoakConfig {
  std::string scenario;  // what the reports call this soak
  std::string workload;  // workload name, e.g. "synthetic"
  std::string leak;      // leak mode as given
  std::vector<StrategySpec> strategies;
  std::vector<Allocator> allocators = {Allocator::kGlibc};  // every strategy runs under each
  std::uint64_t iterations = 2000;
  std::uint64_t warmup = 200;  // runs excluded from the trend, per strategy
  std::uint64_t seed = 1;
  std::optional<std::uint64_t> budget_bytes_per_run;
  std::int64_t run_timeout_ms = 0;       // 0: none
  std::uint64_t memory_limit_bytes = 0;  // 0: none
  std::uint64_t max_failures = 0;        // per strategy; 0: no limit
  std::string exec_command;              // --exec: an external worker instead of the factory's workload
  std::vector<std::string> command_line;
  nlohmann::json workload_info = nlohmann::json::object();     // what the workload says of itself
  nlohmann::json workload_request = nlohmann::json::object();  // enough to rebuild it elsewhere
};

// One (strategy, allocator) pair: an entry of run.json's "strategies".
struct SoakEntry {
  StrategySpec spec;
  Allocator allocator = Allocator::kGlibc;
};
std::vector<SoakEntry> soak_entries(const SoakConfig& config);

struct SoakOptions {
  std::FILE* progress_stream = stderr;
  bool show_progress = false;
  // The command that runs entry `index` of `run_dir` in a freshly executed memsoak (needed for
  // allocators other than glibc: LD_PRELOAD and MALLOC_ARENA_MAX act at exec); the result and
  // heartbeat descriptors' numbers are appended.
  std::function<std::vector<std::string>(std::uint32_t index)> strategy_exec_argv;
  // The command that runs one run of entry `index` in a fresh executable (the spawn strategy).
  std::function<std::vector<std::string>(std::uint32_t index)> spawn_argv;
};

struct SoakResult {
  int interrupted_by_signal = 0;  // SIGINT or SIGTERM when the soak was stopped early
};

// Runs every entry of `config` into `run_dir` (already created): writes run.json first, then
// each entry in a process of its own forked (or, for another allocator, executed) from this one,
// which never runs the workload itself. Records go to samples.bin as runs finish; failed runs
// get a line in run.log. A process that crashes or hangs past the run timeout is replaced and
// the entry goes on from the next run. SIGINT/SIGTERM stop the soak: every process of it is
// killed and reaped, run.json is completed, and the result says which signal it was.
// Throws InputError when the workload refuses its input, std::runtime_error when the harness fails.
SoakResult run_soak(const SoakConfig& config, const WorkloadFactory& factory,
                    const std::filesystem::path& run_dir, const SoakOptions& options);

// The body of an entry's process when it was executed rather than forked (see
// SoakOptions::strategy_exec_argv): reads run.json of `run_dir`, runs entry `index` from run
// `first_run` on, and reports through the two descriptors. Returns the exit code.
int run_soak_entry_process(const std::filesystem::path& run_dir, std::uint32_t index, std::uint64_t first_run,
                           std::uint64_t failures_before, const WorkloadFactory& factory, int result_fd,
                           int heartbeat_fd, const SoakOptions& options);

// Reads back the SoakConfig that run.json records (what an executed entry process needs).
SoakConfig read_soak_config(const std::filesystem::path& run_dir);

}  // namespace memsoak::harness
