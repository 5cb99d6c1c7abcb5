// The record of one run: what memsoak measured of the process that ran it.
#pragma once

#include <cstdint>
#include <type_traits>

namespace memsoak::harness {

// A value that was not measured in this run (the reports write it as null).
inline constexpr std::int64_t kNotMeasured = -1;

// Memory and resources of one process at one instant. Plain data, fixed size: it crosses a pipe
// from a forked child and is stored as is in samples.bin (see sample_file.h).
struct ProcessSample {
  std::int64_t rss_bytes = kNotMeasured;
  std::int64_t anon_rss_bytes = kNotMeasured;
  std::int64_t heap_live_bytes = kNotMeasured;   // memsoak's allocation counters, if loaded
  std::int64_t heap_live_blocks = kNotMeasured;  // allocations not yet freed
  std::int64_t open_fds = kNotMeasured;
  std::int64_t threads = kNotMeasured;
  std::int64_t minor_faults = kNotMeasured;
  std::int64_t major_faults = kNotMeasured;
  std::int64_t cpu_user_ns = kNotMeasured;
  std::int64_t cpu_system_ns = kNotMeasured;
  // From smaps_rollup, every few runs only (it costs 100 us to milliseconds): proportional set
  // size (shared pages divided among the processes sharing them) and unique set size
  // (Private_Clean + Private_Dirty). RSS counts a page shared copy-on-write with a zygote in
  // every child; PSS does not.
  std::int64_t pss_bytes = kNotMeasured;
  std::int64_t uss_bytes = kNotMeasured;
};

enum RunFlags : std::uint32_t {
  kRunFailed = 1u << 0,  // the run did not produce a result; the reason is in run.log
  kRunWarmup = 1u << 1,  // before --warmup runs had passed: not used for the trend
};

// One run. `worker` is the process that ran the workload: the harness itself for in-process,
// the forked child (its last sample before exit) for fork.
struct RunRecord {
  std::uint32_t strategy_index = 0;  // index into run.json's "strategies"
  std::uint32_t flags = 0;           // RunFlags
  std::uint64_t run_index = 0;
  std::uint64_t digest = 0;                           // of the workload's output; equal across strategies
  std::int64_t latency_ns = kNotMeasured;             // wall time of the whole run as the harness saw it
  std::int64_t work_ns = kNotMeasured;                // time inside Workload::run alone
  std::int64_t setup_ns = kNotMeasured;               // Workload::setup paid by this run (fork: every run)
  std::int64_t worker_peak_rss_bytes = kNotMeasured;  // a child's peak RSS from wait4
  std::int64_t harness_rss_bytes = kNotMeasured;      // the strategy process's RSS after the run
  std::uint64_t worker_id = 0;  // which process ran it: changes when a worker is replaced
  // PSS of all the strategy's processes together (strategy process, template, worker or child),
  // when smaps was read for this run: the honest total footprint.
  std::int64_t footprint_pss_bytes = kNotMeasured;
  ProcessSample worker;
};

static_assert(std::is_trivially_copyable_v<RunRecord>);
static_assert(sizeof(RunRecord) == 176, "samples.bin layout changed: bump kSampleFileVersion");

}  // namespace memsoak::harness
