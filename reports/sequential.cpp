// Sequential stopping (see sequential.h).
#include "reports/sequential.h"

#include <fmt/format.h>

#include <numbers>

#include "harness/sequential_looks.h"
#include "harness/units.h"
#include "reports/growth.h"
#include "reports/strategy_analysis.h"

namespace memsoak::reports {

double look_alpha(std::size_t look) {
  const double k1 = static_cast<double>(look) + 1;
  return kSequentialAlpha * 6 / (std::numbers::pi * std::numbers::pi * k1 * k1);
}

LookDecision decide_at_look(const harness::RunManifest& manifest, std::uint32_t entry_index,
                            std::span<const harness::RunRecord> records) {
  const std::uint64_t runs = records.empty() ? 0 : records.back().run_index + 1;
  const std::size_t look = harness::look_covering(runs);
  const StrategyReport s = analyse_strategy(manifest, entry_index, records, look_alpha(look));
  const Classification& c = s.classification;
  // Only stability settles early; growth of any kind (leak, retention, plateau, bounded) waits.
  const bool growth = c.verdict != Verdict::kStable && c.verdict != Verdict::kInconclusive;
  if (growth && runs < kMinRunsToSettleGrowth) {
    return {false,
            fmt::format("{} at look {}, not settled before {} runs (a cache filling that long looks the "
                        "same as a leak until it stops, and a leak like a plateau between page steps): {}",
                        verdict_name(c.verdict), look + 1, harness::format_count(kMinRunsToSettleGrowth),
                        c.reason)};
  }
  return {c.verdict != Verdict::kInconclusive,
          fmt::format("{} at look {} (alpha {:.2g}): {}", verdict_name(c.verdict), look + 1, look_alpha(look),
                      c.reason)};
}

}  // namespace memsoak::reports
