// Growth classification: from a strategy's per-run memory series to a verdict with its reason.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "reports/statistics.h"

namespace memsoak::reports {

enum class Verdict { kStable, kLeak, kPlateau, kRetention, kBounded, kInconclusive };

std::string_view verdict_name(Verdict verdict);

// The trend of one series (RSS or live heap, bytes per run, warm-up already removed).
struct SeriesGrowth {
  TrendEstimate trend;       // over the whole series
  MannKendall mann_kendall;  // over the whole series
  TrendEstimate tail_trend;  // over the last third: is it still growing at the end?
  bool grows = false;        // significant, positive, and above the noise floor
  bool tail_grows = false;
};

// Growth below `noise_floor_bytes` over the whole series is not called growth: RSS moves in
// pages and glibc trims its heap top now and then; live-heap counters are exact but a workload's
// first runs may still touch lazily initialised state.
SeriesGrowth analyse_series(std::span<const double> bytes, double noise_floor_bytes);

inline constexpr double kRssNoiseFloorBytes = 256.0 * 1024;
inline constexpr double kHeapNoiseFloorBytes = 8.0 * 1024;
// Fewer analysed runs than this cannot separate a slow leak from noise.
inline constexpr std::size_t kMinRunsForVerdict = 30;
inline constexpr double kSignificance = 0.01;

struct Classification {
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;  // one sentence for people: what the numbers say
};

// leak: live heap (or RSS, when the heap is not measured) grows through to the end.
// plateau: it grew, then stopped in the last third (a cache filling to its bound).
// retention: RSS grows through to the end while the live heap does not (allocator retention).
// stable: no significant growth above the noise floor. inconclusive: too few runs.
// bounded (set by the analysis, not here): grows within each worker's life and is reset when a
// recycling strategy replaces the worker — the sawtooth that recycling buys.
Classification classify(const std::optional<SeriesGrowth>& heap, const SeriesGrowth& rss,
                        std::size_t analysed_runs);

}  // namespace memsoak::reports
