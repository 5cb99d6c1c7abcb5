// The analysis of one entry (see strategy_analysis.h).
#include "reports/strategy_analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "harness/sequential_looks.h"
#include "harness/units.h"
#include "reports/growth.h"
#include "reports/sequential.h"
#include "reports/statistics.h"

namespace memsoak::reports {
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

// The runs a trend is taken over, and which worker process ran each.
struct Selection {
  std::vector<const RunRecord*> analysed;
  std::vector<Block> workers;       // analysed runs of one worker; one block when every run has a new process
  std::vector<std::uint64_t> ages;  // each analysed run's place in its worker's life (0: its first run)
};

// In-process and recycling strategies keep a worker across runs; fork, zygote and spawn start a
// process for every run, so their series is one block (what grows there is what every child
// inherits).
bool keeps_workers(const harness::StrategySpec& spec) {
  return spec.kind == "in-process" || spec.kind == "recycle";
}

// The level a worker settled at: the median of its last five runs.
std::int64_t settled_level(std::span<const RunRecord* const> runs,
                           std::int64_t harness::ProcessSample::*field) {
  std::vector<double> last;
  for (std::size_t i = runs.size() - std::min<std::size_t>(runs.size(), 5); i < runs.size(); ++i) {
    if (runs[i]->worker.*field == kNotMeasured) return kNotMeasured;
    last.push_back(static_cast<double>(runs[i]->worker.*field));
  }
  return last.empty() ? kNotMeasured : static_cast<std::int64_t>(quantile(last, 0.5));
}

bool below(const RunRecord& r, std::int64_t level, std::int64_t harness::ProcessSample::*field) {
  return level != kNotMeasured && r.worker.*field != kNotMeasured && r.worker.*field < level;
}

// Successful runs past the soak's warm-up. A worker that replaced another has a warm-up of its
// own: a new process's first runs fill its caches and arenas, and must not read as growth of the
// strategy. It is a tenth of the runs the worker served and, for a replacement nobody planned (a
// crash), also lasts until the worker has reached the level its predecessor settled at (at most
// half its runs). A recycling strategy's workers are left their growth: it is what is judged.
Selection select_runs(std::span<const RunRecord> records, std::uint64_t warmup, bool by_worker,
                      bool recycles) {
  std::vector<const RunRecord*> ok;
  for (const RunRecord& r : records) {
    if ((r.flags & harness::kRunFailed) == 0) ok.push_back(&r);
  }
  Selection s;
  for (std::size_t start = 0, end; start < ok.size(); start = end) {
    end = start + 1;
    if (!by_worker) end = ok.size();
    while (end < ok.size() && ok[end]->worker_id == ok[start]->worker_id) ++end;
    std::size_t own_warmup = 0;
    if (start > 0) {
      own_warmup = (end - start) / 10;
      if (!recycles) {
        std::span<const RunRecord* const> before(ok.data(), start);
        std::size_t previous = start;  // the previous worker's runs: back to its first
        while (previous > 0 && ok[previous - 1]->worker_id == ok[start - 1]->worker_id) --previous;
        before = before.subspan(previous);
        const std::int64_t rss = settled_level(before, &harness::ProcessSample::rss_bytes);
        const std::int64_t heap = settled_level(before, &harness::ProcessSample::heap_live_bytes);
        const std::size_t cap = (end - start) / 2;
        while (own_warmup < cap &&
               (below(*ok[start + own_warmup], rss, &harness::ProcessSample::rss_bytes) ||
                below(*ok[start + own_warmup], heap, &harness::ProcessSample::heap_live_bytes)))
          ++own_warmup;
      }
    }
    const std::size_t first = s.analysed.size();
    for (std::size_t k = start + own_warmup; k < end; ++k) {
      if (ok[k]->run_index < warmup) continue;
      s.analysed.push_back(ok[k]);
      s.ages.push_back(k - start);
    }
    if (s.analysed.size() > first) s.workers.push_back({first, s.analysed.size()});
  }
  return s;
}

// Recycling: does each new worker start higher than the last (growth that survives the
// replacement)? The level of each worker with its own growth taken out, over workers with at
// least 5 analysed runs; at least 5 workers are needed to test it.
bool grows_across_workers(std::span<const double> y, const Selection& sel, double slope, double alpha,
                          double floor_bytes) {
  std::vector<double> levels;
  for (const Block& b : sel.workers) {
    if (b.size() < 5) continue;
    std::vector<double> level;
    for (std::size_t i = b.begin; i < b.end; ++i)
      level.push_back(y[i] - slope * static_cast<double>(sel.ages[i]));
    levels.push_back(quantile(level, 0.5));
  }
  if (levels.size() < 5) return false;
  const MannKendall mk = mann_kendall(levels);
  const TrendEstimate t = theil_sen(levels);
  return mk.z > 0 && mk.p_value < alpha && t.ci_low > 0 &&
         t.slope * static_cast<double>(levels.size() - 1) >= floor_bytes;
}

// A recycling strategy whose memory grows within each worker's life and is reset when the worker
// is replaced is bounded, whatever the trend over the whole soak says (with a few workers that
// trend is a few sawteeth): its bound is the peak a worker reaches. Only a strategy that replaces
// its worker on purpose; an in-process worker that keeps crashing must still read as leaking.
void classify_recycling(StrategyReport& s, const harness::StrategySpec& spec, const Selection& sel,
                        const std::vector<double>& heap, const std::vector<double>& rss, double alpha) {
  // Bounded means reset by a replacement: at least one must have been seen.
  if (!spec.recycles || s.analysed_runs < kMinRunsForVerdict || sel.workers.size() < 2) return;
  const bool use_heap = !heap.empty();
  const std::vector<double>& y = use_heap ? heap : rss;
  if (y.empty()) return;
  const SeriesGrowth within =
      analyse_series(y, sel.workers, use_heap ? heap_series(alpha) : rss_series(alpha));
  s.within_worker_growth_bytes_per_run = within.trend.slope;
  if (!within.grows) return;
  if (grows_across_workers(y, sel, within.trend.slope, alpha, within.floor_bytes)) return;  // a leak too
  const double bound = *std::max_element(y.begin(), y.end());
  s.bound_bytes = static_cast<std::int64_t>(bound);
  s.classification = {
      Verdict::kBounded,
      fmt::format(
          "{} grows {}/run within each worker (95% CI {} to {}) and is reset when the worker is "
          "replaced: a worker peaks at {}{}",
          use_heap ? "live heap" : "RSS", harness::format_bytes(within.trend.slope),
          harness::format_bytes(within.trend.ci_low), harness::format_bytes(within.trend.ci_high),
          harness::format_bytes(bound),
          s.rss_peak_bytes
              ? fmt::format(" (RSS peak {})", harness::format_bytes(static_cast<double>(*s.rss_peak_bytes)))
              : std::string())};
}

}  // namespace

std::uint64_t warmup_runs(const harness::SoakConfig& config, std::uint64_t runs_done) {
  return config.warmup_auto ? runs_done / 10 : config.warmup;
}

double analysis_alpha(const harness::SoakConfig& config, std::uint64_t runs_done) {
  return config.iterations_auto ? look_alpha(harness::look_covering(runs_done)) : kSignificance;
}

StrategyReport analyse_strategy(const harness::RunManifest& manifest, std::uint32_t index,
                                std::span<const RunRecord> records, double alpha) {
  const harness::ManifestEntry& entry = manifest.entries.at(index);
  StrategyReport s;
  s.strategy = entry.strategy.name;
  s.allocator = std::string(harness::allocator_name(entry.allocator));
  s.runs = records.size();
  s.alpha = alpha;
  s.ended_by = entry.stats.ended_by;
  for (const RunRecord& r : records) {
    if (r.flags & harness::kRunFailed) ++s.failed_runs;
  }
  const std::uint64_t runs_done = records.empty() ? 0 : records.back().run_index + 1;
  s.warmup_runs = warmup_runs(manifest.config, runs_done);
  const Selection sel =
      select_runs(records, s.warmup_runs, keeps_workers(entry.strategy), entry.strategy.recycles);
  s.analysed_runs = sel.analysed.size();
  const std::vector<double> rss = series(sel.analysed, &harness::ProcessSample::rss_bytes);
  const std::vector<double> heap = series(sel.analysed, &harness::ProcessSample::heap_live_bytes);
  // A recycling strategy's trend is over the whole soak, sawteeth and all (what it costs over
  // time); its growth within workers is taken apart below. Other strategies that keep a worker
  // compare runs of one worker only, so a crash's replacement starting afresh is not growth.
  const Block one{0, sel.analysed.size()};
  const std::span<const Block> blocks =
      entry.strategy.recycles ? std::span<const Block>(&one, 1) : std::span<const Block>(sel.workers);
  auto onset_run = [&](SeriesGrowth& g) {
    if (g.onset) g.onset_run = sel.analysed[*g.onset]->run_index;
  };
  // The heap and the RSS tests share the entry's alpha (each gets half when both are measured), so
  // the chance of any false growth verdict stays at most alpha.
  const double series_alpha = !rss.empty() && !heap.empty() ? alpha / 2 : alpha;
  SeriesOptions rss_options = rss_series(series_alpha);
  SeriesOptions heap_options = heap_series(series_alpha);
  rss_options.find_onset = heap_options.find_onset = !entry.strategy.recycles;
  if (!rss.empty()) {
    s.rss = analyse_series(rss, blocks, rss_options);
    onset_run(*s.rss);
    s.rss_first_bytes = static_cast<std::int64_t>(rss.front());
    s.rss_last_bytes = static_cast<std::int64_t>(rss.back());
  }
  if (!heap.empty()) {
    s.heap = analyse_series(heap, blocks, heap_options);
    onset_run(*s.heap);
  }
  const bool strict = manifest.config.iterations_auto;
  if (s.rss) {
    s.classification = classify(s.heap, *s.rss, s.analysed_runs, strict);
  } else {
    s.classification = {Verdict::kInconclusive, "no RSS samples after warm-up"};
  }
  // Workers replaced every run or two leave no pairs to compare within a worker: that is no
  // evidence of flatness.
  std::size_t comparable = 0;
  for (const Block& b : sel.workers) comparable += b.size() >= 3 ? b.size() : 0;
  if (!entry.strategy.recycles && keeps_workers(entry.strategy) && s.analysed_runs >= kMinRunsForVerdict &&
      comparable < kMinRunsForVerdict) {
    s.classification = {
        Verdict::kInconclusive,
        fmt::format("its worker was replaced {} times in {} analysed runs: too few runs of one "
                    "worker ({}) to compare",
                    sel.workers.size() - 1, s.analysed_runs, comparable)};
  }
  if (!sel.analysed.empty()) s.latency_ms = latency_percentiles(sel.analysed);
  fill_costs(s, records, entry.stats);
  fill_sharing(s, sel.analysed);
  classify_recycling(s, entry.strategy, sel, heap, rss, alpha);
  // The trim probe: what glibc was holding at the end that malloc_trim(0) gave back. A retention
  // it explains is memory the allocator keeps, not memory the workload holds.
  if (entry.stats.trim_rss_before_bytes && entry.stats.trim_rss_after_bytes) {
    s.trim_released_bytes = *entry.stats.trim_rss_before_bytes - *entry.stats.trim_rss_after_bytes;
    if (s.classification.verdict == Verdict::kRetention) {
      s.classification.reason +=
          fmt::format("; malloc_trim(0) at the end gave back {} of {} RSS",
                      harness::format_bytes(static_cast<double>(*s.trim_released_bytes)),
                      harness::format_bytes(static_cast<double>(*entry.stats.trim_rss_before_bytes)));
    }
  }
  return s;
}

}  // namespace memsoak::reports
