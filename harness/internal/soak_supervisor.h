// The main process's side of a soak: launches one process per entry in turn, watches its
// heartbeats with a watchdog, replaces a process that crashed or hung (recording the lost run),
// reaps everything, routes SIGINT/SIGTERM, and keeps run.json current.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/posix.h"
#include "harness/run_manifest.h"
#include "harness/runner.h"

namespace memsoak::harness::internal {

class SoakSupervisor {
 public:
  SoakSupervisor(RunManifest manifest, const WorkloadSource& source, std::filesystem::path run_dir,
                 SoakOptions options);
  // Runs every entry; run.json is rewritten as each ends. Throws as run_soak() does.
  SoakResult run();

 private:
  struct EntryProcess;
  struct EntryProgress;
  EntryProgress supervise(std::uint32_t index, std::int64_t deadline_ns);
  EntryProcess launch(std::uint32_t index, std::uint64_t first_run, std::uint64_t failures_before,
                      std::int64_t deadline_ns);
  RunRecord record_lost_run(std::uint32_t index, std::uint64_t run_index, const std::string& why,
                            std::int64_t latency_ns);
  bool settled_at_look(std::uint32_t index, const EntryProgress& entry) const;
  std::string stopped_by_max_failures(std::uint64_t failures) const;

  RunManifest manifest_;
  const WorkloadSource& source_;
  std::filesystem::path run_dir_;
  SoakOptions options_;
  std::vector<pid_t> before_soak_;  // this process's descendants when the soak began
};

}  // namespace memsoak::harness::internal
