// InProcessStrategy: every run in the strategy's own process, as a service calls a component.
#include <malloc.h>
#include <sys/resource.h>

#include <exception>
#include <utility>

#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

void InProcessStrategy::start() {
  if (context_.memory_limit_bytes > 0) {
    // This process is the worker: the limit applies to it.
    rlimit limit{context_.memory_limit_bytes, context_.memory_limit_bytes};
    ::setrlimit(RLIMIT_AS, &limit);
  }
  sampler_.emplace();
  workload_ = context_.factory();
  std::int64_t t0 = monotonic_ns();
  workload_->setup();
  setup_ns_ = monotonic_ns() - t0;
}

RunOutcome InProcessStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome;
  std::int64_t t0 = monotonic_ns();
  try {
    outcome.digest = workload_->run(run_index);
    outcome.ok = true;
  } catch (const std::exception& e) {
    outcome.failure = e.what();
  } catch (...) {
    outcome.failure = "unknown exception";
  }
  outcome.work_ns = monotonic_ns() - t0;
  // The usual glibc workaround: give free pages at the top of every arena back to the OS.
  if (spec_.trim) malloc_trim(0);
  outcome.latency_ns = monotonic_ns() - t0;
  // Setup is paid once, by the first run of this process.
  outcome.setup_ns = std::exchange(setup_ns_, 0);
  outcome.worker = sampler_->sample();
  if (smaps_run(context_, run_index)) {
    sampler_->add_smaps(outcome.worker);
    outcome.footprint_pss_bytes = outcome.worker.pss_bytes;
  }
  // The strategy has a process of its own, so its high-water mark is the workload's peak so far,
  // spikes inside a run included.
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) outcome.worker_peak_rss_bytes = usage.ru_maxrss * 1024;
  return outcome;
}

void InProcessStrategy::stop() noexcept {
  if (workload_) {
    try {
      workload_->teardown();
    } catch (...) {
      // Teardown failures change nothing that was measured.
    }
  }
  workload_.reset();
  sampler_.reset();
}

}  // namespace memsoak::harness::internal
