// The analysis of one entry (strategy x allocator) from its run records: which runs are warm-up,
// which belong to which worker process, the trends and the verdict. Used for the final report
// (reports/analysis.h) and at each look of a soak that stops itself (reports/sequential.h).
#pragma once

#include <cstdint>
#include <span>

#include "harness/run_manifest.h"
#include "harness/sample.h"
#include "reports/report_model.h"

namespace memsoak::reports {

// The runs of an entry left out of its trend at the start: --warmup as given, or, by default, a
// tenth of the runs the entry did (so a soak killed after 4,800 of 200,000 planned runs is
// analysed from run 480, not judged entirely warm-up).
std::uint64_t warmup_runs(const harness::SoakConfig& config, std::uint64_t runs_done);

// The level of the entry's tests: kSignificance for a fixed-length soak; for one that stops itself,
// the share of the look that covers the runs it did (reports/sequential.h).
double analysis_alpha(const harness::SoakConfig& config, std::uint64_t runs_done);

// `records` are the entry's, in run order. `alpha` is the level of its tests.
StrategyReport analyse_strategy(const harness::RunManifest& manifest, std::uint32_t index,
                                std::span<const harness::RunRecord> records, double alpha);

}  // namespace memsoak::reports
