// The soak loop: runs a workload under each strategy in turn and records every run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/strategy.h"
#include "harness/workload.h"

namespace memsoak::harness {

struct SoakConfig {
  std::string scenario;  // what the reports call this soak
  std::string workload;  // workload name, e.g. "synthetic"
  std::string leak;      // leak mode as given
  std::vector<StrategySpec> strategies;
  std::uint64_t iterations = 2000;
  std::uint64_t warmup = 200;  // runs excluded from the trend, per strategy
  std::uint64_t seed = 1;
  std::optional<std::uint64_t> budget_bytes_per_run;
  std::vector<std::string> command_line;
  nlohmann::json workload_info = nlohmann::json::object();  // what the workload says of itself
};

struct SoakOptions {
  std::FILE* progress_stream = stderr;
  bool show_progress = false;
};

// Runs every strategy of `config` for config.iterations runs into `run_dir` (already created):
// writes run.json first, appends samples.bin as runs finish, one run.log line per failed run,
// and rewrites run.json with each strategy's elapsed time when it ends.
// Throws when a strategy cannot start (its workload fails to set up) or the disk fails.
void run_soak(const SoakConfig& config, const WorkloadFactory& factory, const std::filesystem::path& run_dir,
              const SoakOptions& options);

}  // namespace memsoak::harness
