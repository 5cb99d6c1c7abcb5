// Building every report of a large soak: 100,000 runs × 6 strategies (the target: under 2 s, with
// report.html under 5 MB). The run directory is made once, by hand, with the harness's own
// writers: a leak, a sawtooth under recycling, a plateau, noise, PSS every 8th run and a few
// failures, so that every writer and every chart has real work.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "harness/run_manifest.h"
#include "harness/sample_file.h"
#include "harness/splitmix64.h"
#include "reports/analysis.h"
#include "reports/writer.h"

namespace {
namespace fs = std::filesystem;
using namespace memsoak;

constexpr std::uint64_t kRuns = 100'000;

fs::path make_run_directory() {
  const fs::path dir = fs::temp_directory_path() / ("memsoak-report-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  harness::SoakConfig config;
  config.scenario = "report bench";
  config.workload = "synthetic";
  config.leak = "dropped:64";
  config.strategies =
      harness::parse_strategy_list("in-process,in-process+trim,fork,zygote,recycle:100,spawn");
  config.iterations = kRuns;
  config.warmup = kRuns / 10;
  harness::RunManifest manifest =
      harness::RunManifest::begin(config, harness::WorkloadSource::external("bench"));
  harness::SampleWriter samples(dir / "samples.bin", harness::SampleWriter::Mode::kCreate);
  harness::SplitMix64 random(7);
  for (std::uint32_t s = 0; s < manifest.entries.size(); ++s) {
    const harness::StrategySpec& spec = manifest.entries[s].strategy;
    for (std::uint64_t i = 0; i < kRuns; ++i) {
      harness::RunRecord r;
      r.strategy_index = s;
      r.run_index = i;
      r.flags = (i < config.warmup ? harness::kRunWarmup : 0u) | (i % 9973 == 5 ? harness::kRunFailed : 0u);
      r.latency_ns = 1'000'000 + static_cast<std::int64_t>(random.next() % 200'000);
      const double noise = static_cast<double>(random.next() % 8192);
      double heap = 1e6;
      if (s == 0) heap += 64.0 * static_cast<double>(i);                           // a leak
      if (s == 1) heap += 4e6 * (1 - std::exp(-static_cast<double>(i) / 5000.0));  // a plateau
      if (spec.runs_per_worker > 0)
        heap += 4096.0 * static_cast<double>(i % spec.runs_per_worker);  // sawtooth
      r.worker_id =
          spec.kind == "in-process" ? 1 : (spec.runs_per_worker > 0 ? i / spec.runs_per_worker : i) + 1;
      r.worker.heap_live_bytes = static_cast<std::int64_t>(heap);
      r.worker.rss_bytes = static_cast<std::int64_t>(8e6 + heap + noise);
      if (i % 8 == 0) r.worker.pss_bytes = r.worker.rss_bytes / 2;
      samples.append(r);
    }
    manifest.entries[s].stats.completed_runs = kRuns;
    manifest.entries[s].stats.elapsed_ns = 100'000'000'000;
  }
  manifest.write(dir);
  return dir;
}

void BM_AllReportsFor100kRunsBy6Strategies(benchmark::State& state) {
  const fs::path dir = make_run_directory();
  for (auto _ : state) {
    reports::Report report = reports::analyse_run_directory(dir);
    reports::write_reports(report, {dir, nullptr});
  }
  state.counters["report_html_MB"] = static_cast<double>(fs::file_size(dir / "report.html")) / 1e6;
  state.counters["samples_bin_MB"] = static_cast<double>(fs::file_size(dir / "samples.bin")) / 1e6;
  fs::remove_all(dir);
}
BENCHMARK(BM_AllReportsFor100kRunsBy6Strategies)->Unit(benchmark::kMillisecond)->Iterations(3);

// The two halves, to see where the time goes.
void BM_AnalysisOnly(benchmark::State& state) {
  const fs::path dir = make_run_directory();
  for (auto _ : state) benchmark::DoNotOptimize(reports::analyse_run_directory(dir));
  fs::remove_all(dir);
}
BENCHMARK(BM_AnalysisOnly)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_WritersOnly(benchmark::State& state) {
  const fs::path dir = make_run_directory();
  const reports::Report report = reports::analyse_run_directory(dir);
  for (auto _ : state) reports::write_reports(report, {dir, nullptr});
  fs::remove_all(dir);
}
BENCHMARK(BM_WritersOnly)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
