// The body of an entry's process: sets its strategy up, runs the entry's runs from `first_run`
// on, appends a record per run to samples.bin, and reports to the supervisor through the pipes
// of internal/entry_protocol.h; under --iterations auto it waits for the supervisor's answer at
// each look and stops by itself at its deadline.
#pragma once

#include <cstdint>
#include <filesystem>

#include "harness/run_manifest.h"
#include "harness/runner.h"
#include "harness/workload.h"

namespace memsoak::harness::internal {

// Everything an entry's process needs, in one place.
struct EntryTask {
  const RunManifest* manifest = nullptr;
  std::uint32_t index = 0;
  std::uint64_t first_run = 0;
  std::uint64_t failures_before = 0;  // failed runs of earlier processes of this entry
  const WorkloadSource* source = nullptr;
  std::filesystem::path run_dir;
  SoakOptions options;
  int result_fd = -1;
  int heartbeat_fd = -1;
  int control_fd = -1;  // the supervisor's answers at looks (entry_protocol.h); -1 without auto
  // Under --duration: CLOCK_MONOTONIC time (ns) after which the entry does no further run; 0: none.
  std::int64_t deadline_ns = 0;
};

// Runs the entry and exits the process with 0 (its result was delivered) or 1. Never returns.
[[noreturn]] void run_entry_process(const EntryTask& task) noexcept;

}  // namespace memsoak::harness::internal
