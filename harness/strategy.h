// Process strategies: which process runs run i, from memsoak's own to a fresh executable per run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/invocation.h"
#include "harness/sample.h"
#include "harness/workload.h"

namespace memsoak::harness {

// One strategy as the user named it, parsed by its row of the strategy table
// (harness/internal/strategy_table.h): "in-process", "in-process+trim", "fork", "zygote",
// "recycle:N", "recycle:N~J", "recycle-rss:SIZE", "spawn".
struct StrategySpec {
  std::string name;                     // as written, shown in reports
  std::string kind;                     // its table row's kind: in-process, fork, zygote, recycle, spawn
  bool trim = false;                    // in-process+trim: malloc_trim(0) after each run
  std::uint64_t runs_per_worker = 0;    // a worker serves this many runs, then is replaced; 0: no limit
  std::uint64_t recycle_jitter = 0;     // ... plus a seeded random 0..J (recycle:N~J)
  std::uint64_t recycle_rss_bytes = 0;  // recycle-rss:SIZE: replace the worker once its RSS passes SIZE
  bool recycles = false;                // replaces its worker on purpose (reports: growth per worker)
  bool applies_to_exec = false;         // an external (--exec) worker can run under it
};

// Parses one strategy. Throws InputError naming an unknown or malformed strategy.
StrategySpec parse_strategy(std::string_view text);

// Parses a comma-separated list. Throws InputError naming an unknown, malformed or repeated
// strategy.
std::vector<StrategySpec> parse_strategy_list(std::string_view list);

// The strategy forms parse_strategy accepts, for `memsoak list` and error messages.
std::vector<std::string_view> strategy_names();

// What one run produced, as the harness saw it.
struct RunOutcome {
  bool ok = false;
  std::string failure;        // why the run failed, one line; empty when ok
  bool start_failed = false;  // the run failed because its worker did not start (an --exec worker)
  std::uint64_t digest = 0;
  std::int64_t latency_ns = kNotMeasured;
  std::int64_t work_ns = kNotMeasured;
  std::int64_t setup_ns = kNotMeasured;
  std::int64_t worker_peak_rss_bytes = kNotMeasured;
  std::uint64_t worker_id = 0;
  std::int64_t footprint_pss_bytes = kNotMeasured;
  std::uint64_t artifacts = 0;  // artifact files the run's process committed (artifacts.h)
  ProcessSample worker;
};

// A failed run's reason, with a note when the --child-memory-limit `limit` (0: none) is the likely
// cause: the workload's address space had come within a quarter of it (`address_space_peak`, 0
// when unknown), or the reason names a failed allocation (bad_alloc, MemoryError, ENOMEM's text).
std::string explain_memory_limit(std::string reason, std::uint64_t limit, std::uint64_t address_space_peak);

// What every strategy needs besides its spec.
struct StrategyContext {
  WorkloadSource workload;               // what runs: a native or plugin factory, or an external worker
  std::int64_t run_timeout_ms = 0;       // a run still going after this is killed; 0: no limit
  std::uint64_t memory_limit_bytes = 0;  // address-space limit of the processes running the workload
  std::uint64_t seed = 1;                // for recycle jitter
  std::uint64_t smaps_every_runs = 10;   // PSS/USS sampled on runs where i % K == 0
  // spawn: the invocation of one run in a fresh executable (its run_index is set per run).
  // Without it, spawn is unavailable.
  std::optional<SpawnInvocation> spawn = std::nullopt;
  std::string worker_log_path = {};  // an external worker's stderr is appended here
  // An external worker's exec tracker (ExternalWorkerOptions::tracker_library); empty: off.
  std::string tracker_library = {};
  // With the tracker: the environment that makes a long-lived worker sample allocation stacks
  // (harness/stack_sampling.h, worker_stack_environment); empty: none.
  std::vector<std::string> worker_stack_environment = {};
  // The entry's processes allocate with glibc's malloc (glibc, glibc-arena2), so malloc_trim
  // means something in them.
  bool glibc_malloc = true;
};

// RSS of a strategy's process before and after malloc_trim(0) as the strategy stopped.
struct TrimProbe {
  std::int64_t rss_before_bytes = kNotMeasured;
  std::int64_t rss_after_bytes = kNotMeasured;
};

// Throws InputError for a strategy that does not apply to external workers (zygote, spawn and
// in-process+trim need memsoak to hold the workload in its own process).
void check_strategies_for_exec(const std::vector<StrategySpec>& specs);

// A strategy owns the processes of one soak. Not thread-safe.
class Strategy {
 public:
  virtual ~Strategy() = default;
  // Prepares for the first run (in-process: builds and sets up the workload). Throws when the
  // workload cannot be set up: nothing could be measured.
  virtual void start() = 0;
  // Does run `run_index`. Never throws for a failure of the workload: that is a failed outcome.
  virtual RunOutcome run(std::uint64_t run_index) = 0;
  // Ends the strategy's processes and tears the workload down.
  virtual void stop() noexcept = 0;
  // After stop(): the trim probe, for a strategy that ran the workload in this process under
  // glibc malloc (in-process, in-process+trim); none for every other.
  virtual std::optional<TrimProbe> trim_probe() const noexcept { return std::nullopt; }
};

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, const StrategyContext& context);

// The body of one spawned run (what context.spawn starts): sets the workload up, runs it
// once, writes the report to `result_fd`. Returns the process's exit code. Never throws.
int run_spawned_once(const StrategyContext& context, std::uint64_t run_index, int result_fd) noexcept;

}  // namespace memsoak::harness
