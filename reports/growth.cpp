// Growth classification (see growth.h).
#include "reports/growth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "harness/units.h"

namespace memsoak::reports {
namespace {

std::string p_value_text(double p) { return p < 1e-16 ? "p<1e-16" : fmt::format("p={:.2g}", p); }

std::string describe(std::string_view what, const SeriesGrowth& g) {
  std::string text =
      fmt::format("{} {}/run (95% CI {} to {}, Mann-Kendall {})", what, harness::format_bytes(g.trend.slope),
                  harness::format_bytes(g.trend.ci_low), harness::format_bytes(g.trend.ci_high),
                  p_value_text(g.mann_kendall.p_value));
  if (g.onset_run && g.overall_slope) {
    text += fmt::format(" since run {} (a late onset: {}/run averaged over every run)", *g.onset_run,
                        harness::format_bytes(*g.overall_slope));
  }
  return text;
}

std::vector<Block> blocks_from(std::span<const Block> blocks, std::size_t from) {
  std::vector<Block> out;
  for (const Block& b : blocks) {
    if (b.end <= from) continue;
    out.push_back({std::max(b.begin, from) - from, b.end - from});
  }
  return out;
}

double median_of(std::span<const double> values) { return values.empty() ? 0 : quantile(values, 0.5); }

// Runs that rose above every earlier run of their block.
std::size_t count_rises(std::span<const double> y, std::span<const Block> blocks) {
  std::size_t rises = 0;
  for (const Block& b : blocks) {
    if (b.begin >= b.end) continue;
    double top = y[b.begin];
    for (std::size_t i = b.begin + 1; i < b.end; ++i) {
      if (y[i] > top) {
        ++rises;
        top = y[i];
      }
    }
  }
  return rises;
}

// The test, floors and tail of one series, without looking for a late onset.
SeriesGrowth analyse_core(std::span<const double> y, std::span<const Block> blocks, const SeriesOptions& o) {
  SeriesGrowth g;
  g.values = y.size();
  g.goal_bytes_per_run = o.goal_bytes_per_run;
  g.alpha = o.alpha;
  // Decisions use a two-sided interval whose each side errs with probability alpha.
  g.trend = theil_sen(y, blocks, 0.95, 1 - 2 * o.alpha);
  g.mann_kendall = mann_kendall(y, blocks);
  g.significant = g.mann_kendall.z > 0 && g.mann_kendall.p_value < o.alpha && g.trend.decision_low > 0;
  std::vector<double> residuals;
  residuals.reserve(y.size());
  g.rises = count_rises(y, blocks);
  for (const Block& b : blocks) {
    std::vector<double> level;
    for (std::size_t i = b.begin; i < b.end; ++i)
      level.push_back(y[i] - g.trend.slope * static_cast<double>(i));
    const double centre = median_of(level);
    for (double v : level) residuals.push_back(std::fabs(v - centre));
  }
  g.noise_bytes = median_of(residuals);
  g.floor_bytes = std::max(kFloorSteps * o.granularity_bytes, g.noise_bytes);
  const double span = static_cast<double>(y.empty() ? 0 : y.size() - 1);
  g.grows = g.significant && g.trend.slope * span >= g.floor_bytes && g.rises >= kMinRises;
  if (!y.empty()) {
    const std::size_t head = std::min(std::max<std::size_t>(y.size() / 100, 5), y.size());
    g.rise_bytes = median_of(y.subspan(y.size() - std::max<std::size_t>(y.size() / 3, 1))) -
                   median_of(y.subspan(0, head));
  }
  const std::size_t tail_from = y.size() - y.size() / 3;
  if (y.size() / 3 < kMinRunsForVerdict) {
    g.tail_trend = g.trend;
    g.tail_grows = g.grows;
  } else {
    SeriesOptions tail_options = o;
    std::vector<Block> tail_blocks = blocks_from(blocks, tail_from);
    std::span<const double> tail = y.subspan(tail_from);
    g.tail_trend = theil_sen(tail, tail_blocks, 0.95, 1 - 2 * o.alpha);
    const MannKendall tail_mk = mann_kendall(tail, tail_blocks);
    const std::size_t tail_rises = count_rises(tail, tail_blocks);
    g.tail_grows = tail_mk.z > 0 && tail_mk.p_value < tail_options.alpha && g.tail_trend.decision_low > 0 &&
                   g.tail_trend.slope * static_cast<double>(tail.size() - 1) >= g.floor_bytes &&
                   tail_rises >= kMinRises;
    g.tail_slows = g.tail_trend.decision_high < g.trend.slope / 4;
  }
  return g;
}

// The start of a growth that begins late: the knee of the best flat-then-rising (hinge) fit over
// kOnsetCandidates positions between a tenth and four fifths of the series.
std::optional<std::size_t> hinge_onset(std::span<const double> y) {
  const std::size_t n = y.size();
  if (n < 4 * kMinRunsForVerdict) return std::nullopt;
  double y_mean = 0;
  for (double v : y) y_mean += v;
  y_mean /= static_cast<double>(n);
  std::optional<std::size_t> best;
  double best_score = 0;
  for (std::size_t c = 0; c < kOnsetCandidates; ++c) {
    const auto tau = static_cast<std::size_t>(static_cast<double>(n) *
                                              (0.1 + 0.7 * static_cast<double>(c) / (kOnsetCandidates - 1)));
    const double m = static_cast<double>(n - tau);
    // x = max(0, i - tau): its mean and the centred sums, in closed form over i >= tau.
    const double x_mean = (m - 1) * m / 2 / static_cast<double>(n);
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = (i > tau ? static_cast<double>(i - tau) : 0.0) - x_mean;
      sxy += x * (y[i] - y_mean);
      sxx += x * x;
    }
    if (sxx <= 0 || sxy <= 0) continue;
    const double score = sxy * sxy / sxx;  // the variance the hinge explains
    if (score > best_score) {
      best_score = score;
      best = tau;
    }
  }
  return best;
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kStable:
      return "stable";
    case Verdict::kLeak:
      return "leak";
    case Verdict::kPlateau:
      return "plateau";
    case Verdict::kRetention:
      return "retention";
    case Verdict::kBounded:
      return "bounded";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

SeriesGrowth analyse_series(std::span<const double> bytes, const SeriesOptions& options) {
  const Block one{0, bytes.size()};
  return analyse_series(bytes, std::span<const Block>(&one, 1), options);
}

SeriesGrowth analyse_series(std::span<const double> bytes, std::span<const Block> blocks,
                            const SeriesOptions& options) {
  // Two tests of the series share its alpha: the whole series, and the growth after a knee.
  const bool search = options.find_onset && blocks.size() == 1;
  SeriesOptions half = options;
  if (search) half.alpha = options.alpha / 2;
  SeriesGrowth whole = analyse_core(bytes, blocks, half);
  if (!search) return whole;
  // A leak that starts late is averaged away over the whole series (the median pairwise slope of
  // a long flat stretch is zero): test the growth after the best knee, at alpha / 2 / candidates.
  const std::optional<std::size_t> onset = hinge_onset(bytes);
  if (!onset) return whole;
  SeriesOptions strict = options;
  strict.alpha = options.alpha / 2 / kOnsetCandidates;
  std::vector<Block> after = blocks_from(blocks, *onset);
  SeriesGrowth late = analyse_core(bytes.subspan(*onset), after, strict);
  if (!late.grows || (whole.grows && late.trend.slope <= 2 * whole.trend.slope)) return whole;
  late.onset = *onset;
  late.onset_run = *onset;  // the caller maps it to a run index
  late.overall_slope = whole.trend.slope;
  late.alpha = options.alpha;
  return late;
}

std::uint64_t runs_to_settle(const SeriesGrowth& g, std::size_t analysed_runs) {
  const double n = static_cast<double>(std::max<std::size_t>(analysed_runs, 1));
  const double slope = std::max(g.trend.slope, 0.0);
  double needed = n;
  if (g.trend.ci_low > 0 && slope > 0) {
    // It rose: enough runs for the rise to pass the floor, and for a last third long enough to
    // tell whether it goes on.
    needed = std::max({n, g.floor_bytes / slope * 1.25, 3.0 * static_cast<double>(kMinRunsForVerdict)});
  } else {
    // Nearly flat: narrow the interval (as n^-1.5) until its top is under the goal.
    const double half_width = std::max(g.trend.decision_high - g.trend.slope, 1e-9);
    const double target = std::max(g.goal_bytes_per_run - slope, g.goal_bytes_per_run / 4);
    needed = n * std::pow(half_width / target, 2.0 / 3.0);
  }
  // Analysed runs are nine tenths of the runs (a tenth is warm-up).
  const double more = std::max((needed - n) / 0.9, 10.0);
  // Two significant figures: "about 3,000", not "about 2,987".
  const double scale = std::pow(10.0, std::max(std::floor(std::log10(more)) - 1, 0.0));
  return static_cast<std::uint64_t>(std::ceil(more / scale) * scale);
}

Classification classify(const std::optional<SeriesGrowth>& heap, const SeriesGrowth& rss,
                        std::size_t analysed_runs, bool strict) {
  if (analysed_runs < kMinRunsForVerdict) {
    const auto more =
        static_cast<std::uint64_t>(std::ceil(static_cast<double>(kMinRunsForVerdict - analysed_runs) / 0.9));
    return {
        Verdict::kInconclusive,
        fmt::format("only {} run{} after warm-up; at least {} are needed (run about {} more)", analysed_runs,
                    analysed_runs == 1 ? "" : "s", kMinRunsForVerdict, harness::format_count(more))};
  }
  if (heap && heap->grows) {
    if (heap->tail_slows && !heap->tail_grows) {
      return {Verdict::kPlateau,
              fmt::format("live heap rose by {} ({}), then stopped growing in the last third",
                          harness::format_bytes(heap->rise_bytes), describe("at", *heap))};
    }
    return {Verdict::kLeak, describe("live heap grows", *heap)};
  }
  if (rss.grows && rss.values / 3 < kMinRunsForVerdict) {
    return {
        Verdict::kInconclusive,
        fmt::format("{}, but {} runs are too few to tell whether RSS keeps growing (a page staircase that "
                    "stops is not a leak); run about {} more",
                    describe("RSS rose", rss), rss.values,
                    harness::format_count(runs_to_settle(rss, analysed_runs)))};
  }
  if (rss.grows) {
    // RSS is judged on growth that goes on to the end: glibc's high-water mark can climb in rarer
    // and rarer page steps for thousands of runs as a random mix of sizes meets new peaks, and
    // then stays; a staircase that has all but stopped in the last third is a plateau.
    if (!rss.tail_grows) {
      return {Verdict::kPlateau,
              fmt::format("RSS rose by {} ({}), then {} in the last third",
                          harness::format_bytes(rss.rise_bytes), describe("at", rss),
                          rss.tail_slows ? "stopped growing" : "rose too seldom to call it sustained")};
    }
    if (heap) {
      return {Verdict::kRetention,
              describe("RSS grows", rss) + " while the live heap does not: the allocator keeps freed memory"};
    }
    return {Verdict::kLeak, describe("RSS grows", rss) + " (live heap not measured)"};
  }
  // It rose, significantly, but in a few steps: a one-time allocation that stays, not a growth that
  // goes on. A significant rise under the floor is no growth in a fixed-length soak, and not yet
  // settled in one that stops itself.
  for (const SeriesGrowth* g : {heap ? &*heap : nullptr, &rss}) {
    if (g == nullptr || !g->stepped()) continue;
    return {Verdict::kPlateau,
            fmt::format("{} rose by {} at {} runs only, then stayed: one-time growth, not "
                        "sustained",
                        g == &rss ? "RSS" : "live heap", harness::format_bytes(g->rise_bytes), g->rises)};
  }
  const bool heap_flat = !heap || heap->settled_flat(strict);
  if (heap_flat && rss.settled_flat(strict)) {
    const bool under_floor = (heap && heap->significant) || rss.significant;
    return {Verdict::kStable,
            fmt::format("no {}growth: RSS {}/run, live heap {}", under_floor ? "sustained " : "significant ",
                        harness::format_bytes(rss.trend.slope),
                        heap ? harness::format_bytes(heap->trend.slope) + "/run" : "not measured") +
                (under_floor ? fmt::format(" (a rise of at most {}/run, under the goal of {}/run)",
                                           harness::format_bytes(rss.significant ? rss.trend.decision_high
                                                                                 : heap->trend.decision_high),
                                           harness::format_bytes(rss.significant ? rss.goal_bytes_per_run
                                                                                 : heap->goal_bytes_per_run))
                             : std::string())};
  }
  const SeriesGrowth& open = heap_flat ? rss : *heap;
  return {Verdict::kInconclusive,
          fmt::format(
              "not settled: {} {}/run (95% CI {} to {}), too little to call sustained growth and too much "
              "to exclude {}/run; run about {} more",
              &open == &rss ? "RSS" : "live heap", harness::format_bytes(open.trend.slope),
              harness::format_bytes(open.trend.ci_low), harness::format_bytes(open.trend.ci_high),
              harness::format_bytes(open.goal_bytes_per_run),
              harness::format_count(runs_to_settle(open, analysed_runs)))};
}

}  // namespace memsoak::reports
