// InProcessStrategy: every run in memsoak's own process, as a service calls a component.
#include <sys/resource.h>

#include <exception>

#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

void InProcessStrategy::start() {
  sampler_.emplace();
  workload_ = factory_();
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
  outcome.latency_ns = outcome.work_ns = monotonic_ns() - t0;
  // Setup is paid once, by the first run.
  outcome.setup_ns = run_index == 0 ? setup_ns_ : 0;
  outcome.worker = sampler_->sample();
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
