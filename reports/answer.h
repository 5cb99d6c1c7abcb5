// The answer a report leads with: which strategy keeps memory stable, and what that costs next
// to the fastest strategy. Plain text; each writer escapes it for its format.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/report_model.h"

namespace memsoak::reports {

// Stable, plateau (grew to a bound, then stopped) and bounded (reset by recycling) keep memory
// from growing without limit; leak and retention do not; inconclusive did not measure enough.
bool keeps_memory_bounded(Verdict verdict);

// The strategy a report recommends: the fastest whose memory is stable, else the fastest whose
// memory is bounded (plateau, or reset by recycling); null when none is.
const StrategyReport* recommended_strategy(const Report& report);

// "fork [jemalloc]" for a strategy (report_model.h's entry_label).
inline std::string entry_label(const StrategyReport& s) { return entry_label(s.strategy, s.allocator); }

// How far an entry got when memsoak was killed (or still runs) before the entry ended:
// "fork did not start", "in-process has 162 of 400 runs"; nothing for an entry that ended, or
// when the soak was stopped by a signal (which the reports say on their own).
std::optional<std::string> unfinished_entry(const Report& report, const StrategyReport& s);

struct Answer {
  std::string headline;              // one sentence
  std::vector<std::string> details;  // the other strategies' verdicts, cut-short soaks
};

Answer answer_of(const Report& report);

}  // namespace memsoak::reports
