// The soak loop (see runner.h).
#include "harness/runner.h"

#include <fmt/format.h>

#include <fstream>

#include "harness/heap_counters.h"
#include "harness/internal/clock.h"
#include "harness/progress.h"
#include "harness/run_directory.h"
#include "harness/sample_file.h"
#include "harness/sampler.h"

namespace memsoak::harness {
namespace {

nlohmann::json initial_run_json(const SoakConfig& config) {
  nlohmann::json strategies = nlohmann::json::array();
  for (const auto& spec : config.strategies) {
    strategies.push_back(
        {{"name", spec.name}, {"allocator", "glibc"}, {"completed_runs", 0}, {"elapsed_ns", nullptr}});
  }
  nlohmann::json budget = nullptr;
  if (config.budget_bytes_per_run) budget = *config.budget_bytes_per_run;
  return {
      {"schema", kRunJsonSchema},
      {"memsoak_version", MEMSOAK_VERSION},
      {"git_commit", MEMSOAK_GIT_COMMIT},
      {"started_at",
       std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
           .count()},
      {"command_line", config.command_line},
      {"scenario", config.scenario},
      {"workload", config.workload},
      {"leak", config.leak},
      {"seed", config.seed},
      {"iterations", config.iterations},
      {"warmup", config.warmup},
      {"budget_bytes_per_run", budget},
      {"heap_counters", heap_counters_available() ? nlohmann::json("memsoak-counting-malloc") : nullptr},
      {"strategies", strategies},
      {"workload_info", config.workload_info},
      {"environment", describe_environment()},
  };
}

RunRecord make_record(std::uint32_t strategy_index, std::uint64_t run_index, std::uint64_t warmup,
                      const RunOutcome& outcome) {
  RunRecord record;
  record.strategy_index = strategy_index;
  record.run_index = run_index;
  if (!outcome.ok) record.flags |= kRunFailed;
  if (run_index < warmup) record.flags |= kRunWarmup;
  record.digest = outcome.digest;
  record.latency_ns = outcome.latency_ns;
  record.work_ns = outcome.work_ns;
  record.setup_ns = outcome.setup_ns;
  record.worker_peak_rss_bytes = outcome.worker_peak_rss_bytes;
  record.worker = outcome.worker;
  return record;
}

}  // namespace

void run_soak(const SoakConfig& config, const WorkloadFactory& factory, const std::filesystem::path& run_dir,
              const SoakOptions& options) {
  nlohmann::json run_json = initial_run_json(config);
  write_json_file(run_dir / "run.json", run_json);
  SampleWriter samples(run_dir / "samples.bin");
  std::ofstream run_log(run_dir / "run.log");
  ProcessSampler self;
  ProgressBar progress(options.progress_stream, options.show_progress);

  for (std::uint32_t s = 0; s < config.strategies.size(); ++s) {
    const StrategySpec& spec = config.strategies[s];
    auto strategy = make_strategy(spec, factory);
    progress.begin(spec.name, config.iterations);
    std::int64_t t0 = internal::monotonic_ns();
    strategy->start();
    for (std::uint64_t i = 0; i < config.iterations; ++i) {
      RunOutcome outcome = strategy->run(i);
      RunRecord record = make_record(s, i, config.warmup, outcome);
      record.harness_rss_bytes = self.rss_bytes();
      samples.append(record);
      if (!outcome.ok) {
        run_log << fmt::format("{} run {}: failed: {}\n", spec.name, i, outcome.failure) << std::flush;
      }
      progress.update(i + 1, outcome.worker.rss_bytes);
    }
    strategy->stop();
    progress.end();
    samples.flush();
    run_json["strategies"][s]["completed_runs"] = config.iterations;
    run_json["strategies"][s]["elapsed_ns"] = internal::monotonic_ns() - t0;
    write_json_file(run_dir / "run.json", run_json);
  }
}

}  // namespace memsoak::harness
