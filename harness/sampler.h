// ProcessSampler: reads one process's memory and resources from /proc through kept descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "harness/sample.h"

namespace memsoak::harness {

// Opens /proc/PID/{statm,stat,fd} once and re-reads them with pread on every call, so a sample
// costs a few system calls and no allocation (see tests/bench/sampler_bench.cpp for the numbers).
//
// Thread-compatible (one sampler per thread), no allocation after construction, safe to use in a
// forked child that constructed its own sampler. Fields that cannot be read come back as
// kNotMeasured; the heap counters are filled only when sampling this process.
class ProcessSampler {
 public:
  // Samples the calling process (0) or PID. Throws std::system_error if /proc cannot be opened.
  explicit ProcessSampler(pid_t pid = 0);
  ~ProcessSampler();
  ProcessSampler(const ProcessSampler&) = delete;
  ProcessSampler& operator=(const ProcessSampler&) = delete;

  // The full per-run sample: statm, stat, open descriptors, heap counters, CPU time.
  ProcessSample sample() const noexcept;

  // Adds PSS and USS from smaps_rollup (100 us to milliseconds: call every few runs, not every
  // run). Leaves them kNotMeasured when the kernel has no smaps_rollup (before Linux 4.14).
  void add_smaps(ProcessSample& out) const noexcept;

  // RSS alone, the cheapest path (one pread of statm): for progress and recycle-by-RSS checks.
  std::int64_t rss_bytes() const noexcept;

 private:
  void read_statm(ProcessSample& out) const noexcept;
  void read_stat(ProcessSample& out) const noexcept;
  std::int64_t count_open_fds() const noexcept;
  void close_all() noexcept;

  bool self_;
  pid_t pid_;
  int statm_fd_ = -1;
  int stat_fd_ = -1;
  int fd_dir_fd_ = -1;
  std::int64_t page_bytes_;
  std::int64_t ns_per_tick_;
};

}  // namespace memsoak::harness
