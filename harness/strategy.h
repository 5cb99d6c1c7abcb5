// Process strategies: which process runs run i (the same process every time, or a fresh fork).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sample.h"
#include "harness/workload.h"

namespace memsoak::harness {

enum class StrategyKind { kInProcess, kFork };

struct StrategySpec {
  StrategyKind kind = StrategyKind::kInProcess;
  std::string name;  // as the user wrote it and the reports show it: "in-process", "fork"
};

// Parses a comma-separated list ("in-process,fork"). Throws InputError naming an unknown or
// repeated strategy.
std::vector<StrategySpec> parse_strategy_list(std::string_view list);

// The names parse_strategy_list accepts, for `memsoak list` and error messages.
std::vector<std::string_view> strategy_names();

// What one run produced, as the harness saw it.
struct RunOutcome {
  bool ok = false;
  std::string failure;  // why the run failed, one line; empty when ok
  std::uint64_t digest = 0;
  std::int64_t latency_ns = kNotMeasured;
  std::int64_t work_ns = kNotMeasured;
  std::int64_t setup_ns = kNotMeasured;
  std::int64_t worker_peak_rss_bytes = kNotMeasured;
  ProcessSample worker;
};

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
};

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, WorkloadFactory factory);

}  // namespace memsoak::harness
