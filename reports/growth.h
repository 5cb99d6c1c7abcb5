// Growth classification: from a strategy's per-run memory series to a verdict with its reason.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "reports/statistics.h"

namespace memsoak::reports {

enum class Verdict { kStable, kLeak, kPlateau, kRetention, kBounded, kInconclusive };

std::string_view verdict_name(Verdict verdict);

// The smallest growth memsoak sets out to tell from no growth (README, "How sensitive the verdict
// is"): a strategy is `stable` only when its growth is shown to be below these, not merely
// because no growth was found.
inline constexpr double kRssGoalBytesPerRun = 64;
inline constexpr double kHeapGoalBytesPerRun = 8;
// RSS moves in pages; live-heap counters in malloc's 16-byte chunks.
inline constexpr double kRssGranularityBytes = 4096;
inline constexpr double kHeapGranularityBytes = 16;
// Sustained growth rises above its earlier maximum at several runs and by more than a few steps of
// the series' granularity and more than its own noise. One or two lazy allocations after warm-up
// are significant to a trend test (a step is monotonic) but are not a leak.
inline constexpr std::size_t kMinRises = 4;
inline constexpr double kFloorSteps = 4;
// Fewer analysed runs than this cannot separate a slow leak from noise.
inline constexpr std::size_t kMinRunsForVerdict = 30;
// The level of a fixed-length soak's tests (a soak that stops itself spends less per look:
// reports/sequential.h).
inline constexpr double kSignificance = 0.01;
// Candidate onsets of a late-starting leak; the test of the growth after the chosen one is done at
// alpha / kOnsetCandidates (Bonferroni over the choice).
inline constexpr std::size_t kOnsetCandidates = 32;

// `alpha` is what the series may spend in all: its whole-series test and, when `find_onset`, the
// late-onset search get half each.
struct SeriesOptions {
  double granularity_bytes = kRssGranularityBytes;
  double goal_bytes_per_run = kRssGoalBytesPerRun;
  double alpha = kSignificance;
  bool find_onset = true;  // only for one block: a knee across workers would be a replacement
};
inline SeriesOptions rss_series(double alpha) { return {kRssGranularityBytes, kRssGoalBytesPerRun, alpha}; }
inline SeriesOptions heap_series(double alpha) {
  return {kHeapGranularityBytes, kHeapGoalBytesPerRun, alpha};
}

// The trend of one series (RSS or live heap, bytes per run, warm-up already removed).
struct SeriesGrowth {
  TrendEstimate trend;       // within blocks; since the onset when there is one
  MannKendall mann_kendall;  // of the same values
  TrendEstimate tail_trend;  // over the last third: is it still growing at the end?
  bool significant = false;  // the trend test and the interval (at the decision level) agree it rose
  bool grows = false;        // significant and sustained: above the floor, rising at several runs
  bool tail_grows = false;
  bool tail_slows = false;  // the last third grows clearly slower than the whole: it stopped
  double floor_bytes = 0;   // growth over the series below this is not growth (from the data)
  double noise_bytes = 0;   // median absolute residual around the trend
  std::size_t rises = 0;    // runs that rose above every earlier run of their block
  double rise_bytes = 0;    // median of the last third minus median of the first hundredth (5 runs at least)
  std::size_t values = 0;
  double goal_bytes_per_run = 0;
  double alpha = kSignificance;
  std::optional<std::size_t> onset;        // index where a late-starting growth begins
  std::optional<double> overall_slope;     // with an onset: the slope over every value, for contrast
  std::optional<std::uint64_t> onset_run;  // the run index of `onset` (set by the caller)
  // The rise the trend amounts to over the series.
  double total_growth() const { return trend.slope * static_cast<double>(values > 0 ? values - 1 : 0); }
  // A significant rise in a few steps that pass the floor: one-time allocations that stay.
  bool stepped() const { return significant && !grows && total_growth() >= floor_bytes && rises < kMinRises; }
  // Growth is excluded: no sustained or stepped rise, and either the interval at the decision
  // level lies below the goal rate, or (unless `strict`) the 95 % interval reaches zero and its top
  // could not have lifted the series past its floor. So `stable` never comes with an interval that
  // is above zero and reaches the goal. A soak that stops itself is strict: after 100 runs a
  // 64 B/run leak has not yet risen past four pages.
  bool settled_flat(bool strict) const {
    if (grows || stepped()) return false;
    if (trend.decision_high < goal_bytes_per_run && (!strict || !significant)) return true;
    return !strict && trend.ci_low <= 0 &&
           trend.decision_high * static_cast<double>(values > 0 ? values - 1 : 0) < floor_bytes;
  }
};

// `blocks` split the series into workers (a replaced process starts afresh); pairs across blocks
// are not compared. Without blocks the series is one.
SeriesGrowth analyse_series(std::span<const double> bytes, std::span<const Block> blocks,
                            const SeriesOptions& options);
SeriesGrowth analyse_series(std::span<const double> bytes, const SeriesOptions& options);

struct Classification {
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;  // one sentence for people: what the numbers say (or what would settle it)
};

// leak: live heap (or RSS, when the heap is not measured) grows through to the end.
// plateau: it grew, then stopped (a cache filling to its bound, a one-time allocation).
// retention: RSS grows through to the end while the live heap does not (allocator retention).
// stable: no significant growth, and growth above the goal rates is excluded.
// inconclusive: too few runs, or too noisy to exclude growth at the goal rate; says how many
// more runs would settle it.
// bounded (set by the analysis, not here): grows within each worker's life and is reset when a
// recycling strategy replaces the worker — the sawtooth that recycling buys.
Classification classify(const std::optional<SeriesGrowth>& heap, const SeriesGrowth& rss,
                        std::size_t analysed_runs, bool strict = false);

// "run about 3,000 more": the runs that would bring the series' interval within its goal (or
// above zero when it already looks like growth), assuming the interval narrows as n^-1.5.
std::uint64_t runs_to_settle(const SeriesGrowth& g, std::size_t analysed_runs);

}  // namespace memsoak::reports
