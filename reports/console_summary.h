// The terminal summary: one line per strategy (verdict, growth per run, peak, throughput).
#pragma once

#include <string>

#include "reports/report_model.h"

namespace memsoak::reports {

// "  in-process   leak      heap +4.0 KiB/run [4.0 KiB, 4.0 KiB]  RSS +4.1 KiB/run  peak 14.2 MiB  8123
// runs/s"
std::string summary_line(const StrategyReport& strategy);

// "  heaptrack   top leak 2.0 MiB after 200 runs in f() (f.cpp)  (heaptrack/heaptrack.zst)", or the
// pass's status and reason when it did not run.
std::string heaptrack_line(const HeaptrackSummary& heaptrack);

}  // namespace memsoak::reports
