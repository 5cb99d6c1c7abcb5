// The terminal summary: one line per strategy (verdict, growth per run, peak, throughput).
#pragma once

#include <optional>
#include <string>

#include "reports/report_model.h"

namespace memsoak::reports {

// "  in-process   leak      heap +4.0 KiB/run [4.0 KiB, 4.0 KiB]  RSS +4.1 KiB/run  peak 14.2 MiB  8123
// runs/s"
std::string summary_line(const StrategyReport& strategy);

// The line under a strategy's summary naming its fastest-growing leak suspect, if it has one.
std::optional<std::string> top_suspect_line(const Report& report, const StrategyReport& strategy);

// "  heaptrack   top leak 2.0 MiB after 200 runs in f() (f.cpp)  (heaptrack/heaptrack.zst)", or the
// pass's status and reason when it did not run.
std::string heaptrack_line(const HeaptrackSummary& heaptrack);

}  // namespace memsoak::reports
