// ExternalWorkerStrategy: the process strategies applied to an --exec worker (protocol v1).
#include "harness/internal/clock.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

ExternalWorkerStrategy::ExternalWorkerStrategy(StrategySpec spec, StrategyContext context)
    : spec_(std::move(spec)), context_(std::move(context)), jitter_(context_.seed ^ 0x65786563ull) {}

ExternalWorkerStrategy::~ExternalWorkerStrategy() { stop(); }

bool ExternalWorkerStrategy::should_retire(const RunOutcome& outcome) const {
  if (worker_run_limit_ > 0 && runs_in_worker_ >= worker_run_limit_) return true;
  return spec_.recycle_rss_bytes > 0 && outcome.worker.rss_bytes != kNotMeasured &&
         static_cast<std::uint64_t>(outcome.worker.rss_bytes) > spec_.recycle_rss_bytes;
}

RunOutcome ExternalWorkerStrategy::run(std::uint64_t run_index) {
  std::int64_t t0 = monotonic_ns();
  std::int64_t setup_ns = 0;
  if (!worker_) {
    // A new worker's start (spawn to READY) is paid by the run that needs it.
    ExternalWorkerOptions options;
    options.command = context_.exec_command;
    options.stderr_log_path = context_.worker_log_path;
    if (context_.run_timeout_ms > 0)
      options.run_timeout_ms = options.ready_timeout_ms = context_.run_timeout_ms;
    worker_ = std::make_unique<ExternalWorker>(options);
    WorkerStart start = worker_->start();
    ++worker_generation_;
    runs_in_worker_ = 0;
    if (spec_.kind == StrategyKind::kFork) {
      worker_run_limit_ = 1;
    } else if (spec_.kind == StrategyKind::kRecycle && spec_.recycle_runs > 0) {
      worker_run_limit_ =
          spec_.recycle_runs + (spec_.recycle_jitter > 0 ? jitter_.below(spec_.recycle_jitter + 1) : 0);
    } else {
      worker_run_limit_ = 0;
    }
    if (!start.ok) {
      RunOutcome failed;
      failed.failure = "worker did not start: " + start.failure;
      failed.worker_id = worker_generation_;
      failed.latency_ns = monotonic_ns() - t0;
      worker_.reset();
      return failed;
    }
    setup_ns = start.setup_ns;
  }
  RunOutcome outcome = worker_->run(run_index);
  outcome.latency_ns = monotonic_ns() - t0;
  outcome.setup_ns = setup_ns;
  outcome.worker_id = worker_generation_;
  ++runs_in_worker_;
  if (worker_->broken() || should_retire(outcome)) {
    outcome.worker_peak_rss_bytes = worker_->stop().peak_rss_bytes;
    worker_.reset();
  }
  return outcome;
}

void ExternalWorkerStrategy::stop() noexcept {
  if (worker_) worker_->stop();
  worker_.reset();
}

}  // namespace memsoak::harness::internal
