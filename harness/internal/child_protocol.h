// How a process that ran the workload reports back to the strategy: one fixed-size ChildReport
// through a pipe, and the helpers every process-based strategy shares (limits, timeouts, reaping).
#pragma once

#include <limits.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "harness/sample.h"
#include "harness/sampler.h"
#include "harness/strategy.h"
#include "harness/workload.h"

namespace memsoak::harness::internal {

// Fixed size and under PIPE_BUF, so one write() delivers it whole or not at all.
struct ChildReport {
  std::uint32_t magic = 0x4b4f534d;  // "MSOK"
  std::uint32_t ok = 0;
  std::uint64_t digest = 0;
  std::int64_t setup_ns = 0;
  std::int64_t work_ns = 0;
  ProcessSample sample;
  // PSS of this process plus the strategy's other live processes (parent, template), read at
  // the same moment so that shared pages are counted once; kNotMeasured without smaps.
  std::int64_t family_pss_bytes = kNotMeasured;
  std::uint64_t artifacts = 0;  // artifact files this process committed for the run (artifacts.h)
  char failure[256] = {};
};
static_assert(sizeof(ChildReport) <= PIPE_BUF);

// The strategy's processes other than the reporting one, for family_pss_bytes (at most two:
// the strategy's own process and a zygote template); unused entries are 0.
struct Family {
  pid_t pids[2] = {0, 0};
};

// Whether the process that runs the workload lives for one run or serves many: a one-run process
// reports the stacks its run left live, a long-lived one epochs of its live stacks
// (harness/stack_sampling.h).
enum class ProcessLife { kOneRun, kManyRuns };

// Runs run `run_index` of an already set-up workload and samples this process afterwards
// (PSS/USS and family PSS too when `with_smaps`) with `sampler`, or with one opened for the call
// when it is null (a process that runs once). Never throws: a workload exception becomes
// ok = 0 + message.
ChildReport run_and_report(Workload& workload, std::uint64_t run_index, bool with_smaps, Family family,
                           ProcessLife life, const ProcessSampler* sampler = nullptr) noexcept;

// Builds and sets up a workload, then run_and_report; setup failures are reported the same way.
ChildReport setup_run_and_report(const WorkloadFactory& factory, std::uint64_t run_index, bool with_smaps,
                                 Family family) noexcept;

bool write_report(int fd, const ChildReport& report) noexcept;

enum class ReadStatus { kOk, kEof, kTimeout };
// Reads exactly `size` bytes, waiting at most `timeout_ms` in all (0: no limit).
ReadStatus read_exactly(int fd, void* data, std::size_t size, std::int64_t timeout_ms);

// In a freshly forked child: die with the parent (no orphans), and apply the memory limit.
void prepare_child(const StrategyContext& context) noexcept;

// "child killed by signal 11 (Segmentation fault)", "child exited with status 3 without a result".
std::string describe_exit(int status);

// Waits for `pid`; returns its status and sets `peak_rss_bytes` (kNotMeasured if wait4 failed).
int reap(pid_t pid, std::int64_t& peak_rss_bytes) noexcept;

// Reads a child's report with the run timeout, reaps it (killing it on timeout), and fills
// `outcome` (ok, digest, times, sample, peak RSS, failure). `t0_ns` is when the run began.
void collect_child(pid_t pid, int result_fd, const StrategyContext& context, std::int64_t t0_ns,
                   RunOutcome& outcome);

// Copies a report into an outcome (not latency or peak, which the caller knows).
void apply_report(const ChildReport& report, RunOutcome& outcome);

}  // namespace memsoak::harness::internal
