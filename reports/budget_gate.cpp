// The --budget gate over the report model (see budget_gate.h).
#include "reports/budget_gate.h"

#include <fmt/format.h>

#include "harness/units.h"

namespace memsoak::reports {

double gated_growth_bytes_per_run(const StrategyReport& strategy) {
  if (strategy.classification.verdict == Verdict::kLeak && strategy.heap && strategy.heap->grows) {
    return strategy.heap->trend.slope;
  }
  return strategy.rss ? strategy.rss->trend.slope : 0.0;
}

std::vector<std::string> budget_violations(const Report& report) {
  std::vector<std::string> violations;
  if (!report.budget_bytes_per_run) return violations;
  const auto budget = static_cast<double>(*report.budget_bytes_per_run);
  for (const auto& s : report.strategies) {
    Verdict v = s.classification.verdict;
    if (v == Verdict::kInconclusive) {
      // A gate must not pass on a strategy that measured too little to show it is within budget.
      violations.push_back(fmt::format("{}: inconclusive ({}), so it can't be shown within the budget",
                                       s.strategy, s.classification.reason));
      continue;
    }
    if (v != Verdict::kLeak && v != Verdict::kRetention) continue;
    double rate = gated_growth_bytes_per_run(s);
    if (rate > budget) {
      violations.push_back(fmt::format("{}: {} of {}/run exceeds the budget of {}/run", s.strategy,
                                       verdict_name(v), harness::format_bytes(rate),
                                       harness::format_bytes(budget)));
    }
  }
  return violations;
}

}  // namespace memsoak::reports
