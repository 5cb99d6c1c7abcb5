// Analysis of a run directory (see analysis.h).
#include "reports/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <span>
#include <thread>
#include <unordered_map>

#include "harness/artifacts.h"
#include "harness/errors.h"
#include "harness/run_manifest.h"
#include "harness/sample_file.h"
#include "harness/units.h"
#include "reports/chart_series.h"
#include "reports/heaptrack.h"
#include "reports/run_context.h"
#include "reports/stack_analysis.h"
#include "reports/strategy_analysis.h"

namespace memsoak::reports {
namespace fs = std::filesystem;
using harness::kNotMeasured;
using harness::RunRecord;

namespace {

// Compares each strategy's output digests with the first strategy's, run by run.
void count_digest_mismatches(std::vector<StrategyReport>& reports,
                             const std::vector<std::span<const RunRecord>>& by_strategy) {
  if (by_strategy.empty()) return;
  std::unordered_map<std::uint64_t, std::uint64_t> reference;
  for (const RunRecord& r : by_strategy[0]) {
    if ((r.flags & harness::kRunFailed) == 0) reference[r.run_index] = r.digest;
  }
  for (std::size_t s = 1; s < by_strategy.size(); ++s) {
    for (const RunRecord& r : by_strategy[s]) {
      auto it = reference.find(r.run_index);
      if ((r.flags & harness::kRunFailed) == 0 && it != reference.end() && it->second != r.digest) {
        ++reports[s].digest_mismatches;
      }
    }
  }
}

}  // namespace

Report analyse_run_directory(const fs::path& run_dir) {
  if (!fs::is_directory(run_dir)) {
    throw InputError(fmt::format("'{}': not a run directory ({})", run_dir.string(),
                                 fs::exists(run_dir) ? "not a directory" : "no such directory"));
  }
  const harness::RunManifest manifest = harness::RunManifest::read(run_dir);
  std::vector<RunRecord> records = harness::read_sample_file(run_dir / "samples.bin");
  const std::size_t entries = manifest.entries.size();
  for (const RunRecord& r : records) {
    if (r.strategy_index >= entries) {
      throw InputError(fmt::format("{}: a record names strategy {} but run.json lists {}",
                                   (run_dir / "samples.bin").string(), r.strategy_index, entries));
    }
  }
  // Strategies ran one after another, so their records are already grouped; the stable sort only
  // guards against a file assembled by hand. Each strategy then gets a span, not a copy.
  const auto by_index = [](const RunRecord& a, const RunRecord& b) {
    return a.strategy_index < b.strategy_index;
  };
  if (!std::is_sorted(records.begin(), records.end(), by_index)) {
    std::stable_sort(records.begin(), records.end(), by_index);
  }
  std::vector<std::span<const RunRecord>> by_strategy;
  auto begin = records.begin();
  for (std::uint32_t s = 0; s < entries; ++s) {
    auto end = std::find_if(begin, records.end(), [s](const RunRecord& r) { return r.strategy_index != s; });
    by_strategy.emplace_back(records.data() + (begin - records.begin()),
                             static_cast<std::size_t>(end - begin));
    begin = end;
  }

  Report report;
  report.run_directory = run_dir.string();
  report.scenario = manifest.config.scenario;
  report.workload = manifest.config.workload;
  report.leak = manifest.config.leak;
  report.warmup = manifest.config.warmup;
  report.planned_runs = manifest.config.iterations;
  report.iterations_auto = manifest.config.iterations_auto;
  report.budget_bytes_per_run = manifest.config.budget_bytes_per_run;
  report.interrupted_by_signal = manifest.interrupted_by_signal;
  // Strategies are independent: they are analysed on as many threads as there are cores (a
  // 100,000-run soak of six strategies spends seconds in trend statistics otherwise).
  report.strategies.resize(by_strategy.size());
  report.charts.resize(by_strategy.size());
  {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t s; (s = next.fetch_add(1)) < by_strategy.size();) {
        const std::uint64_t runs_done = by_strategy[s].empty() ? 0 : by_strategy[s].back().run_index + 1;
        report.strategies[s] = analyse_strategy(manifest, static_cast<std::uint32_t>(s), by_strategy[s],
                                                analysis_alpha(manifest.config, runs_done));
        report.charts[s] = build_strategy_charts(by_strategy[s], report.strategies[s].warmup_runs);
      }
    };
    const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1,
                                                        std::max<std::size_t>(by_strategy.size(), 1));
    std::vector<std::future<void>> pending;
    for (std::size_t t = 1; t < threads; ++t) pending.push_back(std::async(std::launch::async, work));
    work();
    for (auto& p : pending) p.get();  // rethrows a thread's exception here
  }
  count_digest_mismatches(report.strategies, by_strategy);
  const harness::ArtifactListing artifacts = harness::list_artifacts(run_dir);
  for (const harness::ArtifactInfo& a : artifacts.complete) {
    if (a.entry_index >= report.strategies.size()) {
      throw InputError(fmt::format("{}: an artifact of strategy {} but run.json lists {}", a.path.string(),
                                   a.entry_index, report.strategies.size()));
    }
    ++report.strategies[a.entry_index].artifact_files;
  }
  report.skipped_artifact_files = artifacts.skipped.size();
  analyse_stacks(manifest, artifacts, report);
  report.heaptrack = read_heaptrack_summary(run_dir);
  std::vector<std::string> labels;
  for (const harness::ManifestEntry& entry : manifest.entries) labels.push_back(entry.label());
  FailureLog failures = read_failures(run_dir / "run.log", labels);
  report.failures = std::move(failures.groups);
  report.failures_truncated = failures.truncated;
  report.environment = describe_run(manifest);
  return report;
}

}  // namespace memsoak::reports
