// RecycleStrategy: a long-lived worker replaced after N runs or past an RSS limit (gunicorn
// max_requests, Celery max_tasks_per_child / max_memory_per_child, uWSGI reload-on-rss).
#include <unistd.h>

#include <cstring>
#include <exception>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/server_messages.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness::internal {

bool RecycleStrategy::start_worker(RunOutcome& outcome) {
  const StrategyContext& context = context_;
  worker_.start(context_, [&context](int command_fd, int reply_fd) {
    auto workload = set_up_server_workload(context.factory, reply_fd);
    if (!workload) return;
    std::uint64_t run_index = 0;
    Family family;
    family.pids[0] = ::getppid();
    const ProcessSampler sampler;  // the worker's own, opened once for all its runs
    while (read_exactly(command_fd, &run_index, sizeof run_index, 0) == ReadStatus::kOk) {
      ChildReport report =
          run_and_report(*workload, run_index, smaps_run(context, run_index), family, &sampler);
      if (!write_report(reply_fd, report)) return;
    }
  });
  lifetime_.begin_worker();
  std::string failure;
  if (!await_ready(worker_.reply_fd(), context_.run_timeout_ms, outcome.setup_ns, failure)) {
    std::int64_t ignored;
    worker_.finish(true, ignored);
    outcome.failure = "worker " + failure;
    return false;
  }
  return true;
}

WorkerLifetime::WorkerLifetime(const StrategySpec& spec, std::uint64_t seed)
    : spec_(spec), jitter_(seed ^ 0x72656379636c65ull) {}

std::uint64_t WorkerLifetime::begin_worker() {
  runs_ = 0;
  if (spec_.kind == StrategyKind::kFork) {
    limit_ = 1;
  } else if (spec_.kind == StrategyKind::kRecycle && spec_.recycle_runs > 0) {
    limit_ = spec_.recycle_runs + (spec_.recycle_jitter > 0 ? jitter_.below(spec_.recycle_jitter + 1) : 0);
  } else {
    limit_ = 0;
  }
  return ++generation_;
}

bool WorkerLifetime::end_run(const RunOutcome& outcome) {
  ++runs_;
  if (limit_ > 0 && runs_ >= limit_) return true;
  return spec_.recycle_rss_bytes > 0 && outcome.worker.rss_bytes != kNotMeasured &&
         static_cast<std::uint64_t>(outcome.worker.rss_bytes) > spec_.recycle_rss_bytes;
}

RunOutcome RecycleStrategy::run(std::uint64_t run_index) {
  try {
    return run_unchecked(run_index);
  } catch (const std::exception& e) {
    // fork or pipe failed (EAGAIN, EMFILE): this run fails, the soak goes on.
    RunOutcome outcome;
    outcome.failure = std::string("could not start a worker: ") + e.what();
    return outcome;
  }
}

RunOutcome RecycleStrategy::run_unchecked(std::uint64_t run_index) {
  RunOutcome outcome;
  std::int64_t t0 = monotonic_ns();
  outcome.setup_ns = 0;
  // A new worker's start (fork + setup) is paid by the run that needs it.
  if (!worker_.running() && !start_worker(outcome)) {
    outcome.latency_ns = monotonic_ns() - t0;
    return outcome;
  }
  outcome.worker_id = lifetime_.worker_id();
  ChildReport report;
  ReadStatus status = worker_.send(run_index)
                          ? read_exactly(worker_.reply_fd(), &report, sizeof report, context_.run_timeout_ms)
                          : ReadStatus::kEof;
  outcome.latency_ns = monotonic_ns() - t0;
  if (status != ReadStatus::kOk) {
    int exit_status = worker_.finish(true, outcome.worker_peak_rss_bytes);
    outcome.failure =
        status == ReadStatus::kTimeout
            ? "hung past --run-timeout (" + std::to_string(context_.run_timeout_ms) + " ms): killed"
            : "worker " + describe_exit(exit_status);
    return outcome;
  }
  std::int64_t setup_ns = outcome.setup_ns;
  apply_report(report, outcome);
  outcome.setup_ns = setup_ns;
  if (lifetime_.end_run(outcome)) worker_.finish(false, outcome.worker_peak_rss_bytes);
  return outcome;
}

void RecycleStrategy::stop() noexcept {
  std::int64_t ignored;
  worker_.finish(false, ignored);
}

}  // namespace memsoak::harness::internal
