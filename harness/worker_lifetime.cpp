// WorkerLifetime: when a long-lived worker is replaced (see internal/strategies.h).
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

WorkerLifetime::WorkerLifetime(const StrategySpec& spec, std::uint64_t seed)
    : spec_(spec), jitter_(seed ^ 0x72656379636c65ull) {}

std::uint64_t WorkerLifetime::begin_worker() {
  runs_ = 0;
  limit_ = spec_.runs_per_worker;
  if (limit_ > 0 && spec_.recycle_jitter > 0) limit_ += jitter_.below(spec_.recycle_jitter + 1);
  return ++generation_;
}

bool WorkerLifetime::end_run(const RunOutcome& outcome) {
  ++runs_;
  if (limit_ > 0 && runs_ >= limit_) return true;
  return spec_.recycle_rss_bytes > 0 && outcome.worker.rss_bytes != kNotMeasured &&
         static_cast<std::uint64_t>(outcome.worker.rss_bytes) > spec_.recycle_rss_bytes;
}

}  // namespace memsoak::harness::internal
