// ExternalWorker: one worker process that speaks protocol v1 (docs/worker-protocol.md) on pipes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/exec_tracker.h"
#include "harness/internal/line_reader.h"
#include "harness/sample.h"
#include "harness/strategy.h"

namespace memsoak::harness {

struct ExternalWorkerOptions {
  std::string command;                     // run as `/bin/sh -c COMMAND`
  std::string stderr_log_path;             // the worker's stderr is appended here; empty: memsoak's stderr
  std::int64_t ready_timeout_ms = 60'000;  // spawn to READY
  std::int64_t run_timeout_ms = 60'000;    // RUN written to its answer received
  std::int64_t stop_grace_ms = 2'000;      // each of stop()'s waits: after closing stdin, after SIGTERM
  // Makes the calling process a child subreaper (PR_SET_CHILD_SUBREAPER) so that descendants
  // which outlive the worker's shell are reparented here and stop() reaps them before it returns.
  // Without it they go to PID 1 and stay zombies until it reaps them: about a second later in this
  // project's sandbox, never in a container whose PID 1 is an application that does not reap.
  // Process-wide (orphans of any other child come here too) and not inherited by fork, hence an
  // option.
  bool adopt_orphans = true;
  // The exec tracker (harness/exec_tracker.h): the absolute path of libmemsoak_tracker.so, put
  // first in the worker's LD_PRELOAD with a shared region of its own in MEMSOAK_TRACKER_SHM; run()
  // then reads the tree's live heap from it. Empty: no tracker, the heap is not measured.
  std::string tracker_library;
  // More NAME=VALUE entries for a worker with the tracker: its allocation-stack plan
  // (MEMSOAK_STACK_PLAN, MEMSOAK_ARTIFACTS; tracker/worker_stacks.cpp).
  std::vector<std::string> tracker_environment;
  // RLIMIT_AS of the worker's shell, inherited by every process it starts (--child-memory-limit);
  // 0: none. A failed run of a worker whose address space came near it says so.
  std::uint64_t memory_limit_bytes = 0;
};

// How a worker ended, from stop().
struct WorkerExit {
  enum class StoppedBy { kNotStarted, kStdinClosed, kSigterm, kSigkill };
  StoppedBy stopped_by = StoppedBy::kNotStarted;  // the last step stop() needed
  int wait_status = 0;                            // of the direct child (the shell), from wait4
  // ru_maxrss of the direct child from wait4. Linux folds in the children the shell reaped
  // itself, so for a wrapper script that does not exec this is the largest peak in the tree.
  std::int64_t peak_rss_bytes = kNotMeasured;
  std::string description() const;  // "exited with status 0", "killed by signal 9 (Killed) after SIGKILL"
};

// The result of start().
struct WorkerStart {
  bool ok = false;
  std::string failure;                   // one line, when !ok
  std::int64_t setup_ns = kNotMeasured;  // spawn to READY
  std::string last_stderr_line;          // when !ok: the worker's last line in stderr_log_path, if any
};

// One worker process and its tree. Not thread-safe; not copyable or movable (hold it by pointer).
//
// Errors: the worker's misbehaviour (no READY, a bad answer, a crash, a timeout) is a failed
// WorkerStart or RunOutcome with a one-line reason, never an exception. memsoak's own failures
// (pipe, fork, opening the log) throw std::system_error; calling run() on a worker that is not
// ready throws std::logic_error.
//
// The worker runs in its own process group with PR_SET_PDEATHSIG = SIGKILL: if the thread that
// started it dies, the shell is killed. Descendants of the shell are not covered by that (only
// stop() ends the whole group); a descendant that leaves the group (setsid, setpgid) is on its own.
// SIGPIPE: writing to a dead worker is an EPIPE, not a signal; the process's signal dispositions
// are left as they are.
class ExternalWorker {
 public:
  // Throws std::invalid_argument for an empty command or a timeout below 1 ms.
  explicit ExternalWorker(ExternalWorkerOptions options);
  ~ExternalWorker();  // stop()
  ExternalWorker(const ExternalWorker&) = delete;
  ExternalWorker& operator=(const ExternalWorker&) = delete;

  // Spawns the worker and waits for READY. On failure the worker is already stopped (see
  // last_exit()) and broken(). Call once.
  WorkerStart start();

  // Writes `RUN run_index`, waits for one line and samples the process tree (with the tracker:
  // heap_live_bytes is the tree's malloc bytes plus its anonymous mappings, heap_live_blocks its
  // blocks plus mappings, when every live process of the tree reported; see tracker_reading()). ERR is a
  // failed run of a worker that stays usable; anything else that is not OK (a bad line, end of output, no
  // answer within run_timeout_ms, output before RUN) also makes the worker broken(): the caller
  // replaces it. latency_ns is from the write to the answer; worker_peak_rss_bytes, work_ns and
  // setup_ns are not measured here.
  RunOutcome run(std::uint64_t run_index);

  // Closes the worker's stdin, waits stop_grace_ms for it to exit, then SIGTERM to its group, waits
  // again, then SIGKILL. Whatever remains of the group then gets SIGKILL too and every process of
  // it that is this process's child is reaped. Idempotent; returns last_exit().
  WorkerExit stop() noexcept;

  bool broken() const noexcept { return broken_; }
  pid_t pid() const noexcept { return pid_; }  // the shell (= the process group); 0 when not running
  const WorkerExit& last_exit() const noexcept { return last_exit_; }
  // What the tracker read after the last run; nullopt without the tracker.
  const std::optional<TrackerReading>& tracker_reading() const noexcept { return tracker_reading_; }

 private:
  void spawn();
  RunOutcome fail(RunOutcome outcome, std::string reason);
  std::string with_memory_limit(std::string reason) const;
  std::string describe_failed_read(internal::LineReader::Status status, std::string_view due,
                                   std::int64_t timeout_ms);
  std::string describe_end_of_output();
  std::string check_quiet_before(std::uint64_t run_index);
  bool write_run_line(std::uint64_t run_index, std::string& reason);

  ExternalWorkerOptions options_;
  pid_t pid_ = 0;
  int stdin_fd_ = -1;   // our end of the worker's stdin
  int stdout_fd_ = -1;  // our end of the worker's stdout
  bool started_ = false;
  bool broken_ = false;
  internal::LineReader reader_;
  std::string line_;
  WorkerExit last_exit_;
  std::unique_ptr<TrackerRegionOwner> tracker_;
  std::optional<TrackerReading> tracker_reading_;
  std::uint64_t address_space_peak_bytes_ = 0;
  std::uintmax_t log_size_at_spawn_ = 0;  // where this worker's stderr starts in stderr_log_path  // the
                                          // tree's largest VmSize seen, under a memory limit
  ProcessSample sample_tree();
};

}  // namespace memsoak::harness
