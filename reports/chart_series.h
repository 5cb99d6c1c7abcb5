// The data report.html draws: each strategy's memory against run index, thinned to what a chart
// can show, with the runs worth marking (warm-up, worker replacements, failures).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "harness/sample.h"
#include "reports/report_model.h"

namespace memsoak::reports {

// Points per chart line: enough for a 4K-wide chart, few enough that six strategies of 100,000
// runs stay well under a megabyte of page.
inline constexpr std::size_t kChartPointsPerLine = 2000;
// Replacement and failure marks per strategy.
inline constexpr std::size_t kChartMarks = 1000;

// Largest-Triangle-Three-Buckets (Steinarsson, 2013): the indices of `threshold` points of the
// line (x, y) that keep its visual shape: first and last always, then from each bucket the point
// making the largest triangle with the previous choice and the next bucket's mean. Peaks and
// steps survive where averaging or striding would flatten or skip them. All indices when the line
// is no longer than `threshold` (or `threshold` < 3).
std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y,
                                      std::size_t threshold);

// One strategy's records (in run order) as chart lines and marks; runs before `warmup_runs` are
// shaded as warm-up.
StrategyCharts build_strategy_charts(std::span<const harness::RunRecord> records, std::uint64_t warmup_runs,
                                     std::size_t points_per_line = kChartPointsPerLine);

}  // namespace memsoak::reports
