// The --budget gate: which strategies grow faster than the budget allows (exit code 1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/report_model.h"

namespace memsoak::reports {

// The growth rate the budget gate compares: live heap when measured, else RSS.
double gated_growth_bytes_per_run(const StrategyReport& strategy);

// Why `strategy` fails a gate of `budget` bytes per run ("leak of 4.0 KiB/run exceeds the budget of
// 1.0 KiB/run"), or nullopt when it is within it. Per-strategy outputs (junit.xml) use this so
// that they fail exactly the strategies the gate fails.
std::optional<std::string> budget_violation(const StrategyReport& strategy, std::uint64_t budget);

// One line per strategy over the budget ("in-process: leak of 4.0 KiB/run exceeds budget 1.0
// KiB/run"); empty when there is no budget or every strategy is within it. Leak and retention
// count (both mean memory that keeps growing); plateau and stable do not; inconclusive always
// fails the gate, since too little was measured to pass it.
std::vector<std::string> budget_violations(const Report& report);

// One line per strategy none of whose runs completed ("fork: no run completed (3 of 3 runs
// failed); see run.log"): it measured nothing, so no gate can pass on it (exit code 4).
std::vector<std::string> entries_without_a_completed_run(const Report& report);

}  // namespace memsoak::reports
