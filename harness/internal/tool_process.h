// Runs an outside tool (heaptrack, heaptrack_print) to completion as a process group of its own,
// with its output in a log file, a time limit, and the soak's stop signals passed on to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace memsoak::harness::internal {

struct ToolResult {
  int exit_code = -1;         // when it exited
  int signal = 0;             // when a signal killed it
  int stop_signal = 0;        // SIGINT/SIGTERM that reached memsoak (StopSignals) while it ran
  bool timed_out = false;     // it ran past `limit_ms` and was killed
  std::int64_t limit_ms = 0;  // as given
  std::int64_t elapsed_ns = 0;
  int pid = 0;  // of the process it ran (gone by the time run_tool returns)
  bool ok() const noexcept { return exit_code == 0 && signal == 0 && stop_signal == 0 && !timed_out; }
};

// Executes argv[0] (an absolute path) with `argv`, in `cwd`, stdin from /dev/null, stdout and
// stderr appended to `log`, in a new process group that dies with memsoak (PR_SET_PDEATHSIG on
// its leader). When it ends, whatever is left of its group is killed and reaped. A stop signal
// is passed on to the group (SIGTERM, then SIGKILL after 5 s); `limit_ms` > 0 kills it after that
// long. QT_QPA_PLATFORM is set to a platform that does not exist, so a heaptrack_gui that
// heaptrack's script opens at its end exits at once instead of waiting for a person.
// Throws std::system_error when the process cannot be started.
ToolResult run_tool(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                    const std::filesystem::path& log, std::int64_t limit_ms);

}  // namespace memsoak::harness::internal
