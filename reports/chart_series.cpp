// Chart data for report.html (see chart_series.h).
#include "reports/chart_series.h"

#include <algorithm>
#include <cmath>

namespace memsoak::reports {
using harness::kNotMeasured;
using harness::RunRecord;

std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y,
                                      std::size_t threshold) {
  const std::size_t n = std::min(x.size(), y.size());
  std::vector<std::size_t> chosen;
  if (threshold >= n || threshold < 3) {
    chosen.resize(n);
    for (std::size_t i = 0; i < n; ++i) chosen[i] = i;
    return chosen;
  }
  chosen.reserve(threshold);
  chosen.push_back(0);
  // The first and last points are kept; the n - 2 between them fall into threshold - 2 buckets.
  const double bucket = static_cast<double>(n - 2) / static_cast<double>(threshold - 2);
  auto bucket_start = [&](std::size_t b) {
    return 1 + static_cast<std::size_t>(std::floor(static_cast<double>(b) * bucket));
  };
  std::size_t previous = 0;
  for (std::size_t b = 0; b < threshold - 2; ++b) {
    const std::size_t begin = bucket_start(b);
    const std::size_t end = std::min(bucket_start(b + 1), n - 1);
    // The mean of the next bucket (the last point, after the last bucket).
    const std::size_t next_begin = end;
    const std::size_t next_end = b + 3 < threshold ? std::min(bucket_start(b + 2), n - 1) : n;
    double mean_x = 0, mean_y = 0;
    for (std::size_t i = next_begin; i < next_end; ++i) {
      mean_x += x[i];
      mean_y += y[i];
    }
    const double count = static_cast<double>(std::max<std::size_t>(next_end - next_begin, 1));
    mean_x /= count;
    mean_y /= count;
    double best_area = -1;
    std::size_t best = begin;
    for (std::size_t i = begin; i < end; ++i) {
      const double area = std::abs((x[previous] - mean_x) * (y[i] - y[previous]) -
                                   (x[previous] - x[i]) * (mean_y - y[previous]));
      if (area > best_area) {
        best_area = area;
        best = i;
      }
    }
    chosen.push_back(best);
    previous = best;
  }
  chosen.push_back(n - 1);
  return chosen;
}

namespace {

void add_point(ChartLine& line, const RunRecord& r, std::int64_t value) {
  if (value == kNotMeasured) return;
  line.x.push_back(static_cast<double>(r.run_index));
  line.y.push_back(static_cast<double>(value));
}

void thin(ChartLine& line, std::size_t points) {
  if (line.x.size() <= points) return;
  ChartLine kept;
  kept.x.reserve(points);
  kept.y.reserve(points);
  for (std::size_t i : lttb_indices(line.x, line.y, points)) {
    kept.x.push_back(line.x[i]);
    kept.y.push_back(line.y[i]);
  }
  line = std::move(kept);
}

}  // namespace

StrategyCharts build_strategy_charts(std::span<const RunRecord> records, std::uint64_t warmup_runs,
                                     std::size_t points_per_line) {
  StrategyCharts charts;
  bool warmup_seen_end = false;
  std::uint64_t replacements = 0;
  std::uint64_t replacements_left_out = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const RunRecord& r = records[i];
    if (!warmup_seen_end && r.run_index >= warmup_runs) {
      charts.first_analysed_run = r.run_index;
      warmup_seen_end = true;
    }
    if (i > 0 && r.worker_id != records[i - 1].worker_id) {
      ++replacements;
      if (charts.replacements.size() < kChartMarks) {
        charts.replacements.push_back(r.run_index);
      } else {
        ++replacements_left_out;
      }
    }
    if (r.flags & harness::kRunFailed) {
      if (charts.failed_runs.size() < kChartMarks) {
        charts.failed_runs.push_back(r.run_index);
      } else {
        ++charts.marks_left_out;
      }
      continue;
    }
    add_point(charts.rss, r, r.worker.rss_bytes);
    add_point(charts.heap, r, r.worker.heap_live_bytes);
    add_point(charts.pss, r, r.worker.pss_bytes);
    add_point(charts.uss, r, r.worker.uss_bytes);
  }
  if (!warmup_seen_end && !records.empty()) charts.first_analysed_run = records.back().run_index + 1;
  // Fork, zygote and spawn start a process for every run: marking each would paint the chart.
  if (records.size() >= 4 && replacements * 2 >= records.size()) {
    charts.process_per_run = true;
    charts.replacements.clear();
  } else {
    charts.marks_left_out += replacements_left_out;
  }
  for (ChartLine* line : {&charts.rss, &charts.heap, &charts.pss, &charts.uss}) thin(*line, points_per_line);
  return charts;
}

}  // namespace memsoak::reports
