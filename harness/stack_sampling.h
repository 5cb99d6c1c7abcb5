// Allocation-stack sampling in the processes of a soak: the plan a soak's configuration gives,
// and the calls at run boundaries (the sampler itself is part of the counting allocator,
// harness/tracker/; without it linked in, every call here does nothing).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/soak_config.h"

// The plan as the tracker receives it (a plain struct: it crosses a C interface).
struct MemsoakStackPlan {
  std::uint64_t mean_bytes;  // fixed sampling mean; 0 records every allocation; unused when automatic
  std::uint32_t automatic;   // choose the mean after warm-up from the exact heap growth
  std::uint32_t depth;       // frames kept per stack
  std::uint64_t epoch_runs;  // a process that runs many runs writes its live stacks every this many
  std::uint64_t warmup;
  std::uint64_t iterations;
};

// What every process of one entry shares to choose the automatic mean together: the warm-up
// runs' exact heap growth, and the mean once chosen. A memfd, inherited by forked children; a
// spawned run finds it by the descriptor number in MEMSOAK_STACK_STATE_FD, an external worker by
// the path in MEMSOAK_STACK_STATE (/proc/<entry pid>/fd/<n>).
struct MemsoakStackState {
  std::atomic<std::int64_t> warmup_growth;
  std::atomic<std::uint64_t> warmup_runs;
  std::atomic<std::uint64_t> chosen_mean_plus_one;  // 0: not chosen yet
};

namespace memsoak::harness {

inline constexpr std::uint32_t kDefaultStackDepth = 32;
inline constexpr std::uint32_t kMaxStackDepth = 64;
inline constexpr std::uint64_t kMaxStackSampleBytes = 512 * 1024;
// Epochs per soak of a process that runs every run (in-process): iterations / this, at least 1.
inline constexpr std::uint64_t kEpochsPerSoak = 64;

// The plan of a soak, or false when it does not sample stacks.
bool stack_plan_for(const SoakConfig& config, MemsoakStackPlan& plan);

// The environment that gives an external worker's preloaded tracker this plan and the entry's
// artifact folder: MEMSOAK_STACK_PLAN=mean,automatic,depth,epoch_runs,warmup,iterations and
// MEMSOAK_ARTIFACTS=entry:run_dir. Empty when the config samples no stacks.
std::vector<std::string> worker_stack_environment(const SoakConfig& config,
                                                  const std::filesystem::path& run_dir,
                                                  std::uint32_t entry_index);

// True when the counting allocator (with its sampler) is linked into this process.
bool stack_sampling_available() noexcept;

// Maps the sampler's tables and starts sampling in this process; forked children inherit it.
// Cold: before the runs. Does nothing when the config does not sample stacks.
void start_stack_sampling(const SoakConfig& config);

// Around each run of the workload, in the process that runs it. `one_run`: this process lives
// for this run only (a fork or zygote child, a spawned run), so it reports what the run left
// live rather than epochs of what it holds.
void stack_run_begin(std::uint64_t run_index, bool one_run) noexcept;
void stack_run_end(std::uint64_t run_index) noexcept;

}  // namespace memsoak::harness
