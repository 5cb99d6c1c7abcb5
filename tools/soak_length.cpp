// `memsoak run`'s length options (see soak_length.h).
#include "tools/soak_length.h"

#include <fmt/format.h>

#include "harness/errors.h"
#include "harness/sequential_looks.h"
#include "harness/units.h"
#include "scenarios/synthetic.h"

namespace memsoak::tools {

void apply_soak_length(const SoakLengthArgs& args, harness::SoakConfig& config) {
  const bool fixed = args.iterations && *args.iterations != "auto";
  if (args.duration) {
    if (fixed) {
      throw InputError(fmt::format(
          "--duration '{}': cannot go with a fixed --iterations ({}); drop one, or use --iterations auto",
          *args.duration, *args.iterations));
    }
    config.duration_ms = harness::parse_duration_ms(*args.duration, "--duration");
    if (*config.duration_ms == 0)
      throw InputError(fmt::format("--duration '{}': must be above 0", *args.duration));
  }
  config.iterations_auto = !fixed && (args.iterations || args.duration);
  if (!config.iterations_auto) {
    if (args.max_iterations) {
      throw InputError(fmt::format("--max-iterations '{}': applies only with --iterations auto or --duration",
                                   *args.max_iterations));
    }
    config.iterations = kDefaultIterations;
    if (args.iterations) {
      try {
        config.iterations = harness::parse_count(*args.iterations, "--iterations");
      } catch (const InputError&) {
        throw InputError(fmt::format("--iterations '{}': must be a whole number or auto", *args.iterations));
      }
    }
    if (config.iterations == 0)
      throw InputError(fmt::format("--iterations '{}': must be at least 1", *args.iterations));
  } else if (args.max_iterations) {
    config.iterations = harness::parse_count(*args.max_iterations, "--max-iterations");
    if (config.iterations < harness::kFirstLookRuns) {
      throw InputError(fmt::format("--max-iterations '{}': must be at least {} (the first look)",
                                   *args.max_iterations, harness::kFirstLookRuns));
    }
  } else {
    config.iterations = config.duration_ms ? kDefaultMaxIterationsWithDuration : kDefaultMaxIterations;
  }
  if (config.iterations_auto && args.warmup)
    throw InputError("--warmup: with --iterations auto the warm-up is a tenth of the runs done");
  config.warmup_auto = !args.warmup;
  config.warmup = args.warmup ? harness::parse_count(*args.warmup, "--warmup") : config.iterations / 10;
  if (config.warmup >= config.iterations) {
    throw InputError(
        fmt::format("--warmup '{}': must be below --iterations ({})", config.warmup, config.iterations));
  }
}

// A synthetic fault (crash:K, hang:K, hog:K) at a run the soak never reaches would be silently no
// fault at all.
void check_fault_run(const std::string& workload, const std::string& leak_mode,
                     const harness::SoakConfig& config, bool max_iterations_given) {
  if (workload != "synthetic") return;
  const scenarios::SyntheticLeak leak = scenarios::parse_synthetic_leak(leak_mode);
  using Kind = scenarios::SyntheticLeak::Kind;
  if (leak.kind != Kind::kCrash && leak.kind != Kind::kHang && leak.kind != Kind::kHog) return;
  if (leak.count >= config.iterations) {
    // Named as the user set the number of runs: --iterations, --max-iterations, or the ceiling of
    // auto or --duration when neither was given.
    const std::string runs = !config.iterations_auto ? fmt::format("--iterations {}", config.iterations)
                             : max_iterations_given
                                 ? fmt::format("--max-iterations {}", config.iterations)
                                 : fmt::format("at most {} runs under {}", config.iterations,
                                               config.duration_ms ? "--duration" : "auto");
    throw InputError(fmt::format("--leak '{}': run {} is never reached, the runs are 0 to {} ({})", leak_mode,
                                 leak.count, config.iterations - 1, runs));
  }
}

}  // namespace memsoak::tools
