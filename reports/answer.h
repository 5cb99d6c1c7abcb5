// The answer a report leads with: which strategy keeps memory stable, and what that costs next
// to the fastest strategy. Plain text; each writer escapes it for its format.
#pragma once

#include <string>
#include <vector>

#include "reports/report_model.h"

namespace memsoak::reports {

// "fork" or "fork [jemalloc]": how reports name an entry (glibc is the default allocator).
std::string entry_label(const StrategyReport& strategy);

// Stable, plateau (grew to a bound, then stopped) and bounded (reset by recycling) keep memory
// from growing without limit; leak and retention do not; inconclusive did not measure enough.
bool keeps_memory_bounded(Verdict verdict);

struct Answer {
  std::string headline;              // one sentence
  std::vector<std::string> details;  // the other strategies' verdicts, cut-short soaks
};

Answer answer_of(const Report& report);

}  // namespace memsoak::reports
