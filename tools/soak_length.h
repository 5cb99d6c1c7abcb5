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

}  // namespace memsoak::tools
