// Growth classification (see growth.h).
#include "reports/growth.h"

#include <fmt/format.h>

#include "harness/units.h"

namespace memsoak::reports {
namespace {

bool significant_growth(const TrendEstimate& trend, const MannKendall& mk, double min_slope) {
  return mk.z > 0 && mk.p_value < kSignificance && trend.ci_low > 0 && trend.slope >= min_slope;
}

std::string p_value_text(double p) { return p < 1e-16 ? "p<1e-16" : fmt::format("p={:.2g}", p); }

std::string describe(std::string_view what, const SeriesGrowth& g) {
  return fmt::format("{} {}/run (95% CI {} to {}, Mann-Kendall {})", what,
                     harness::format_bytes(g.trend.slope), harness::format_bytes(g.trend.ci_low),
                     harness::format_bytes(g.trend.ci_high), p_value_text(g.mann_kendall.p_value));
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

SeriesGrowth analyse_series(std::span<const double> bytes, double noise_floor_bytes) {
  SeriesGrowth g;
  g.trend = theil_sen(bytes);
  g.mann_kendall = mann_kendall(bytes);
  const double min_slope = noise_floor_bytes / static_cast<double>(std::max<std::size_t>(bytes.size(), 1));
  g.grows = significant_growth(g.trend, g.mann_kendall, min_slope);
  std::span<const double> tail = bytes.subspan(bytes.size() - bytes.size() / 3);
  if (tail.size() < kMinRunsForVerdict) {
    g.tail_trend = g.trend;
    g.tail_grows = g.grows;
  } else {
    g.tail_trend = theil_sen(tail);
    g.tail_grows = significant_growth(g.tail_trend, mann_kendall(tail), min_slope);
  }
  return g;
}

Classification classify(const std::optional<SeriesGrowth>& heap, const SeriesGrowth& rss,
                        std::size_t analysed_runs) {
  if (analysed_runs < kMinRunsForVerdict) {
    return {Verdict::kInconclusive,
            fmt::format("only {} runs after warm-up; at least {} are needed (raise --iterations)",
                        analysed_runs, kMinRunsForVerdict)};
  }
  if (heap && heap->grows) {
    if (heap->tail_grows) return {Verdict::kLeak, describe("live heap grows", *heap)};
    return {Verdict::kPlateau,
            describe("live heap grew", *heap) + ", then stopped growing in the last third"};
  }
  if (rss.grows) {
    if (!rss.tail_grows) {
      return {Verdict::kPlateau, describe("RSS grew", rss) + ", then stopped growing in the last third"};
    }
    if (heap) {
      return {Verdict::kRetention,
              describe("RSS grows", rss) + " while the live heap does not: the allocator keeps freed memory"};
    }
    return {Verdict::kLeak, describe("RSS grows", rss) + " (live heap not measured)"};
  }
  return {
      Verdict::kStable,
      fmt::format("no significant growth: RSS {}/run, live heap {}", harness::format_bytes(rss.trend.slope),
                  heap ? harness::format_bytes(heap->trend.slope) + "/run" : "not measured")};
}

}  // namespace memsoak::reports
