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

namespace memsoak::reports {
namespace fs = std::filesystem;
using harness::kNotMeasured;
using harness::RunRecord;

namespace {

std::vector<double> series(const std::vector<const RunRecord*>& runs,
                           std::int64_t harness::ProcessSample::*field) {
  std::vector<double> values;
  values.reserve(runs.size());
  for (const RunRecord* r : runs) {
    if (r->worker.*field == kNotMeasured) return {};  // a partial series would skew the trend
    values.push_back(static_cast<double>(r->worker.*field));
  }
  return values;
}

LatencyMs latency_percentiles(const std::vector<const RunRecord*>& runs) {
  std::vector<double> ms;
  ms.reserve(runs.size());
  for (const RunRecord* r : runs) ms.push_back(static_cast<double>(r->latency_ns) / 1e6);
  return {quantile(ms, 0.50), quantile(ms, 0.95), quantile(ms, 0.99)};
}

void fill_costs(StrategyReport& s, std::span<const RunRecord> records, const harness::EntryStats& stats) {
  std::int64_t peak = kNotMeasured;
  double setup_ns_sum = 0;
  std::uint64_t ok_runs = 0;
  for (const RunRecord& r : records) {
    peak = std::max({peak, r.worker_peak_rss_bytes, r.worker.rss_bytes});
    if ((r.flags & harness::kRunFailed) == 0 && r.setup_ns != kNotMeasured) {
      setup_ns_sum += static_cast<double>(r.setup_ns);
      ++ok_runs;
    }
  }
  if (peak != kNotMeasured) s.rss_peak_bytes = peak;
  if (ok_runs > 0) s.setup_ms_per_run = setup_ns_sum / static_cast<double>(ok_runs) / 1e6;
  if (stats.elapsed_ns && *stats.elapsed_ns > 0) {
    s.elapsed_seconds = static_cast<double>(*stats.elapsed_ns) / 1e9;
    s.runs_per_second = static_cast<double>(s.runs) / *s.elapsed_seconds;
  }
  if (stats.cpu_user_ns) {
    s.cpu_user_seconds = static_cast<double>(*stats.cpu_user_ns) / 1e9;
    s.cpu_system_seconds = static_cast<double>(stats.cpu_system_ns.value_or(0)) / 1e9;
  }
  s.stopped = stats.stopped;
  s.finished = stats.elapsed_ns.has_value();
}

std::optional<double> mean_of(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// PSS, USS and whole-footprint PSS, sampled every few runs.
void fill_sharing(StrategyReport& s, const std::vector<const RunRecord*>& analysed) {
  std::vector<double> pss, uss, footprint;
  for (const RunRecord* r : analysed) {
    if (r->worker.pss_bytes != kNotMeasured) pss.push_back(static_cast<double>(r->worker.pss_bytes));
    if (r->worker.uss_bytes != kNotMeasured) uss.push_back(static_cast<double>(r->worker.uss_bytes));
    if (r->footprint_pss_bytes != kNotMeasured)
      footprint.push_back(static_cast<double>(r->footprint_pss_bytes));
  }
  s.pss_mean_bytes = mean_of(pss);
  s.uss_mean_bytes = mean_of(uss);
  s.footprint_pss_mean_bytes = mean_of(footprint);
  if (!footprint.empty()) {
    s.footprint_pss_peak_bytes =
        static_cast<std::int64_t>(*std::max_element(footprint.begin(), footprint.end()));
  }
}

// Overall growth below this share of the within-worker growth counts as reset by recycling.
constexpr double kBoundedOverallShare = 0.1;

// Recycling strategies: the median over workers of each worker's Theil–Sen slope (live heap, or
// RSS without it). Only workers that served at least 5 analysed runs count.
std::optional<double> within_worker_growth(const std::vector<const RunRecord*>& analysed, bool use_heap) {
  std::vector<double> slopes;
  std::vector<double> segment;
  auto close_segment = [&] {
    if (segment.size() >= 5) slopes.push_back(theil_sen(segment).slope);
    segment.clear();
  };
  for (std::size_t i = 0; i < analysed.size(); ++i) {
    if (i > 0 && analysed[i]->worker_id != analysed[i - 1]->worker_id) close_segment();
    std::int64_t value = use_heap ? analysed[i]->worker.heap_live_bytes : analysed[i]->worker.rss_bytes;
    if (value != kNotMeasured) segment.push_back(static_cast<double>(value));
  }
  close_segment();
  if (slopes.size() < 2) return std::nullopt;
  return quantile(slopes, 0.5);
}

// A strategy whose memory grows within each worker's life but is reset when the worker is
// replaced is bounded by recycling, not leaking: the slope over the whole window (which partial
// first and last workers can tilt) must be small next to the slope within a worker.
void classify_recycling(StrategyReport& s, const harness::StrategySpec& spec,
                        const std::vector<const RunRecord*>& analysed) {
  // Only a strategy that replaces its worker on purpose is bounded; an in-process worker that keeps
  // crashing also changes worker ids, and its leak must still read as a leak.
  if (!spec.recycles) return;
  if (s.classification.verdict == Verdict::kInconclusive) return;
  const bool use_heap = s.heap.has_value();
  s.within_worker_growth_bytes_per_run = within_worker_growth(analysed, use_heap);
  if (!s.within_worker_growth_bytes_per_run || *s.within_worker_growth_bytes_per_run <= 0) return;
  const double per_run = *s.within_worker_growth_bytes_per_run;
  const double floor = use_heap ? kHeapNoiseFloorBytes : kRssNoiseFloorBytes;
  if (per_run * static_cast<double>(analysed.size()) < floor) return;
  const double overall = use_heap ? s.heap->trend.slope : s.rss->trend.slope;
  if (overall > kBoundedOverallShare * per_run) return;  // it keeps growing across workers too
  s.classification = {
      Verdict::kBounded,
      fmt::format("{} grows {}/run within each worker and is reset when the worker is replaced "
                  "({}/run over the whole soak)",
                  use_heap ? "live heap" : "RSS", harness::format_bytes(per_run),
                  harness::format_bytes(overall))};
}

StrategyReport analyse_strategy(const harness::ManifestEntry& entry, std::span<const RunRecord> records) {
  StrategyReport s;
  s.strategy = entry.strategy.name;
  s.allocator = std::string(harness::allocator_name(entry.allocator));
  s.runs = records.size();
  std::vector<const RunRecord*> analysed;
  for (const RunRecord& r : records) {
    if (r.flags & harness::kRunFailed) {
      ++s.failed_runs;
    } else if ((r.flags & harness::kRunWarmup) == 0) {
      analysed.push_back(&r);
    }
  }
  s.analysed_runs = analysed.size();
  std::vector<double> rss = series(analysed, &harness::ProcessSample::rss_bytes);
  std::vector<double> heap = series(analysed, &harness::ProcessSample::heap_live_bytes);
  if (!rss.empty()) {
    s.rss = analyse_series(rss, kRssNoiseFloorBytes);
    s.rss_first_bytes = static_cast<std::int64_t>(rss.front());
    s.rss_last_bytes = static_cast<std::int64_t>(rss.back());
  }
  if (!heap.empty()) s.heap = analyse_series(heap, kHeapNoiseFloorBytes);
  if (s.rss) {
    s.classification = classify(s.heap, *s.rss, s.analysed_runs);
  } else {
    s.classification = {Verdict::kInconclusive, "no RSS samples after warm-up"};
  }
  if (!analysed.empty()) s.latency_ms = latency_percentiles(analysed);
  fill_costs(s, records, entry.stats);
  fill_sharing(s, analysed);
  classify_recycling(s, entry.strategy, analysed);
  return s;
}

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
        report.strategies[s] = analyse_strategy(manifest.entries[s], by_strategy[s]);
        report.charts[s] = build_strategy_charts(by_strategy[s]);
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
