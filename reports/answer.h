// The answer a report leads with: which strategy keeps memory stable, and what that costs next
// to the fastest strategy. Plain text; each writer escapes it for its format.
#pragma once

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

struct Answer {
  std::string headline;              // one sentence
  std::vector<std::string> details;  // the other strategies' verdicts, cut-short soaks
};

Answer answer_of(const Report& report);

}  // namespace memsoak::reports
