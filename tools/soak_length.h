// `memsoak run`'s length options: --iterations N|auto, --max-iterations, --duration, --warmup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/soak_config.h"

namespace memsoak::tools {

// The ceiling of a strategy under --iterations auto when --max-iterations is not given.
inline constexpr std::uint64_t kDefaultMaxIterations = 20'000;
// The same with --duration: the time is the limit that matters; the ceiling only bounds samples.bin.
inline constexpr std::uint64_t kDefaultMaxIterationsWithDuration = 1'000'000;
inline constexpr std::uint64_t kDefaultIterations = 2000;

// The options as given (none: not given).
struct SoakLengthArgs {
  std::optional<std::string> iterations;  // N or auto
  std::optional<std::string> max_iterations;
  std::optional<std::string> duration;
  std::optional<std::string> warmup;
};

// Sets config's iterations, iterations_auto, duration_ms, warmup and warmup_auto: a fixed length,
// or auto (with its ceiling and maybe a time budget). Throws a one-line InputError naming the
// option for a bad value or a contradiction (--duration with a fixed --iterations, --max-iterations
// without auto or below the first look, --warmup with auto), which are refused, not resolved.
void apply_soak_length(const SoakLengthArgs& args, harness::SoakConfig& config);

// A synthetic fault (crash:K, hang:K, hog:K) at a run past the soak's last would be silently no
// fault at all: throws InputError naming the option that set the number of runs. Other workloads
// and leak modes pass.
void check_fault_run(const std::string& workload, const std::string& leak_mode,
                     const harness::SoakConfig& config, bool max_iterations_given);

}  // namespace memsoak::tools
