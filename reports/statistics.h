// Robust trend statistics over a series of per-run measurements: Theil–Sen slope with a
// confidence interval and the Mann–Kendall trend test. Pure functions over spans; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace memsoak::reports {

// A run of consecutive values that belong together (one worker's runs): [begin, end).
struct Block {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

struct MannKendall {
  double s = 0;         // sum of sign(y[j] - y[i]) over i < j
  double variance = 0;  // of s under no trend, corrected for ties
  double z = 0;         // continuity-corrected normal score; > 0 for an upward trend
  double p_value = 1;   // two-sided
};

// O(n log n) (a Fenwick tree over the ranks of y), so 100k runs take milliseconds.
// Series of fewer than 3 values give s = 0, p = 1.
MannKendall mann_kendall(std::span<const double> y);

// The stratified test (Hirsch and Slack's seasonal Kendall): S and its variance summed over the
// blocks, so only pairs within one block count. A step between blocks (a new worker process
// starting lower or higher than the last one ended) is not a trend.
MannKendall mann_kendall(std::span<const double> y, std::span<const Block> blocks);

struct TrendEstimate {
  double slope = 0;  // median of pairwise slopes (y per step of x)
  double ci_low = 0;
  double ci_high = 0;
  double intercept = 0;  // median of y - slope * x
  // A second, usually wider interval at `decision_confidence`, for decisions at a level other than 95%.
  double decision_low = 0;
  double decision_high = 0;
  bool sampled = false;  // slopes were estimated from a random sample of pairs (large n)
};

// Theil–Sen slope of y against x = 0, 1, 2, ... with Sen's distribution-free confidence interval
// (ranks of the pairwise slopes from the Mann–Kendall variance of `y`, ties included).
// Up to kExactPairsLimit pairs every pair is used; beyond, a fixed-seed sample of
// kSampledPairs pairs (the estimate is then reproducible but approximate, flagged `sampled`).
// Note: the interval assumes independent residuals; per-run memory is autocorrelated, so treat it
// as a lower bound on the uncertainty. Needs at least 2 values; fewer give a zero estimate.
TrendEstimate theil_sen(std::span<const double> y, double confidence = 0.95);

// The same over pairs within each block only (the slope within workers), with the interval from
// the stratified Mann–Kendall variance; decision_low/high at `decision_confidence`.
TrendEstimate theil_sen(std::span<const double> y, std::span<const Block> blocks, double confidence,
                        double decision_confidence);

inline constexpr std::size_t kExactPairsLimit = 4'500'000;
inline constexpr std::size_t kSampledPairs = 1'000'000;

// The q-quantile (0..1) by linear interpolation between order statistics; NaN for an empty span.
double quantile(std::span<const double> values, double q);

// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
double normal_quantile(double p);

}  // namespace memsoak::reports
