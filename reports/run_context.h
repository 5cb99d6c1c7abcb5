// What a person reading a report wants beside the numbers: why runs failed (run.log) and where
// the soak ran (run.json).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "harness/run_manifest.h"
#include "reports/report_model.h"

namespace memsoak::reports {

// run.log is read up to this size; a worker that floods its stderr can make it much longer.
inline constexpr std::uintmax_t kRunLogReadBytes = 32u << 20;
// Distinct (entry, reason) pairs kept; a workload whose every failure differs says so in one.
inline constexpr std::size_t kFailureGroups = 200;

struct FailureLog {
  std::vector<FailureGroup> groups;  // most runs first
  bool truncated = false;            // run.log was longer than kRunLogReadBytes, or had more groups
};

// The "<entry> run <i>: failed: <reason>" lines of `run_log` whose entry is one of `entries`
// (the labels run.json lists), grouped by entry and reason. Other lines (an external worker's
// stderr, which shares the file) are skipped; a worker that prints a line in exactly memsoak's
// form for a real entry is not told apart. A missing run.log has no failures.
FailureLog read_failures(const std::filesystem::path& run_log, const std::vector<std::string>& entries);

// The soak's machine and build, as (name, value) pairs in a stable order.
std::vector<std::pair<std::string, std::string>> describe_run(const harness::RunManifest& manifest);

}  // namespace memsoak::reports
