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

std::optional<std::string> budget_violation(const StrategyReport& s, std::uint64_t budget_bytes_per_run) {
  const auto budget = static_cast<double>(budget_bytes_per_run);
  Verdict v = s.classification.verdict;
  if (v == Verdict::kInconclusive) {
    // A gate must not pass on a strategy that measured too little to show it is within budget.
    return fmt::format("inconclusive ({}), so it can't be shown within the budget", s.classification.reason);
  }
  if (v != Verdict::kLeak && v != Verdict::kRetention) return std::nullopt;
  double rate = gated_growth_bytes_per_run(s);
  if (!(rate > budget)) return std::nullopt;  // written so that a NaN rate passes, as before
  return fmt::format("{} of {}/run exceeds the budget of {}/run", verdict_name(v),
                     harness::format_bytes(rate), harness::format_bytes(budget));
}

std::vector<std::string> budget_violations(const Report& report) {
  std::vector<std::string> violations;
  if (!report.budget_bytes_per_run) return violations;
  for (const auto& s : report.strategies) {
    if (auto why = budget_violation(s, *report.budget_bytes_per_run))
      violations.push_back(fmt::format("{}: {}", entry_label(s.strategy, s.allocator), *why));
  }
  return violations;
}

std::vector<std::string> entries_without_a_completed_run(const Report& report) {
  std::vector<std::string> lines;
  for (const StrategyReport& s : report.strategies) {
    if (s.runs == 0 || s.failed_runs < s.runs) continue;
    lines.push_back(fmt::format("{}: no run completed ({} of {} runs failed); see run.log",
                                entry_label(s.strategy, s.allocator), s.failed_runs, s.runs));
  }
  return lines;
}

}  // namespace memsoak::reports
