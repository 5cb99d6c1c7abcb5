// What a soak was asked to do: the part of run.json that tools/ fills in from the command line.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/allocators.h"
#include "harness/strategy.h"

namespace memsoak::harness {

// Allocation-stack sampling (harness/stack_sampling.h).
struct StackOptions {
  bool enabled = true;
  std::optional<std::uint64_t>
      sample_bytes;          // fixed sampling mean (0: every allocation); none: chosen from the data
  std::uint32_t depth = 32;  // frames per stack, 1..64
};

// --shard I/N: this machine runs the I-th share of the soak's entries (1 <= I <= N). Entry k of the
// whole soak (strategies x allocators, allocators outer) belongs to shard (k mod N) + 1, so each
// shard gets a mix of strategies rather than one slow block of them.
struct ShardSpec {
  std::uint32_t index = 1;  // 1-based
  std::uint32_t count = 1;
  bool owns(std::size_t entry) const { return entry % count == index - 1; }
};

struct SoakConfig {
  std::string scenario;  // what the reports call this soak
  std::string workload;  // workload name, e.g. "synthetic"
  std::string leak;      // leak mode as given
  std::vector<StrategySpec> strategies;
  std::vector<Allocator> allocators = {Allocator::kGlibc};  // every strategy runs under each
  std::uint64_t iterations = 2000;  // runs per strategy; with iterations_auto, the most a strategy may do
  std::uint64_t warmup = 200;       // runs excluded from the trend, per strategy
  // --iterations auto (or --duration): each strategy runs until its verdict is settled at one of
  // the looks of harness/sequential_looks.h, its share of the duration is spent, or it reaches
  // `iterations`.
  bool iterations_auto = false;
  std::optional<std::int64_t> duration_ms;  // --duration: the whole soak's wall-time budget
  // The warm-up was not given: a tenth of the runs (done, under iterations_auto). False when
  // --warmup was given, and in a run.json older than the field.
  bool warmup_auto = true;
  std::uint64_t seed = 1;
  std::optional<std::uint64_t> budget_bytes_per_run;
  std::int64_t run_timeout_ms = 0;       // 0: none
  std::uint64_t memory_limit_bytes = 0;  // 0: none
  std::uint64_t max_failures = 0;        // per strategy; 0: no limit
  StackOptions stacks;
  // --exec-tracker: an external worker runs with libmemsoak_tracker.so preloaded and its live heap
  // is read from it (harness/exec_tracker.h). Ignored for native workloads.
  bool exec_tracker = true;
  std::optional<ShardSpec> shard;  // none: the whole soak
  std::vector<std::string> command_line;
  nlohmann::json workload_info = nlohmann::json::object();     // what the workload says of itself
  nlohmann::json workload_request = nlohmann::json::object();  // enough to rebuild it elsewhere
};

}  // namespace memsoak::harness
