// The terminal summary: one line per strategy (verdict, growth per run, peak, throughput).
#pragma once

#include <string>

#include "reports/report_model.h"

namespace memsoak::reports {

// "  in-process   leak      heap +4.0 KiB/run [4.0 KiB, 4.0 KiB]  RSS +4.1 KiB/run  peak 14.2 MiB  8123
// runs/s"
std::string summary_line(const StrategyReport& strategy);

}  // namespace memsoak::reports
